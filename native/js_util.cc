#include "js_util.h"

#include <fcntl.h>

#include <cerrno>

#include "errors.h"

namespace moat {

namespace {

Napi::Value Arg(const Napi::CallbackInfo& info, size_t index) { return info[index]; }

[[noreturn]] void ThrowType(const Napi::CallbackInfo& info, const char* what, const char* expected) {
  throw Napi::TypeError::New(info.Env(), std::string(what) + " must be " + expected);
}

}  // namespace

int FdArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  if (!value.IsNumber() || value.As<Napi::Number>().Int32Value() < 0) ThrowType(info, what, "an open file descriptor");
  return value.As<Napi::Number>().Int32Value();
}

uint32_t U32Arg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  if (!value.IsNumber()) ThrowType(info, what, "a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (number < 0 || number > UINT32_MAX || number != static_cast<double>(static_cast<uint32_t>(number))) {
    ThrowType(info, what, "an unsigned 32-bit integer");
  }
  return static_cast<uint32_t>(number);
}

int32_t I32Arg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  if (!value.IsNumber()) ThrowType(info, what, "a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (number < INT32_MIN || number > INT32_MAX || number != static_cast<double>(static_cast<int32_t>(number))) {
    ThrowType(info, what, "a signed 32-bit integer");
  }
  return static_cast<int32_t>(number);
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  if (!value.IsString()) ThrowType(info, what, "a string");
  return value.As<Napi::String>().Utf8Value();
}

Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  if (!value.IsBuffer()) ThrowType(info, what, "a Buffer");
  return value.As<Napi::Buffer<uint8_t>>();
}

std::string OptionalStringArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value value = Arg(info, index);
  if (value.IsUndefined() || value.IsNull()) return "";
  return StringArg(info, index, what);
}

int DupFd(int fd, const std::string& subject) {
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) throw SysError("fcntl(F_DUPFD_CLOEXEC)", errno, subject);
  return copy;
}

Napi::Buffer<uint8_t> CopyToBuffer(Napi::Env env, const void* data, size_t length) {
  return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(data), length);
}

}  // namespace moat
