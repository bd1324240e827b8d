// Argument and result helpers shared by the bindings. Argument errors are TypeErrors naming the argument.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace moat {

int FdArg(const Napi::CallbackInfo& info, size_t index, const char* what);
uint32_t U32Arg(const Napi::CallbackInfo& info, size_t index, const char* what);
int32_t I32Arg(const Napi::CallbackInfo& info, size_t index, const char* what);
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* what);
Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t index, const char* what);
// An optional string argument: undefined/null gives "".
std::string OptionalStringArg(const Napi::CallbackInfo& info, size_t index, const char* what);

// A close-on-exec duplicate, so that JS handles own their descriptor independently of libbpf's objects.
int DupFd(int fd, const std::string& subject);

Napi::Buffer<uint8_t> CopyToBuffer(Napi::Env env, const void* data, size_t length);

}  // namespace moat
