// A BPF object file: open with per-program type overrides, map sizes and pin paths, load, hand out descriptors.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include <memory>
#include <string>

namespace moat {

class BpfObjectHandle : public Napi::ObjectWrap<BpfObjectHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit BpfObjectHandle(const Napi::CallbackInfo& info);

 private:
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value ProgramNames(const Napi::CallbackInfo& info);
  Napi::Value MapNames(const Napi::CallbackInfo& info);
  Napi::Value ProgramFd(const Napi::CallbackInfo& info);
  Napi::Value MapFd(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void ApplyOptions(Napi::Object options);
  bpf_object* Require(const char* op) const;
  bpf_program* FindProgram(const std::string& name) const;
  bpf_map* FindMap(const std::string& name) const;

  std::string path_;
  bool loaded_ = false;
  std::unique_ptr<bpf_object, void (*)(bpf_object*)> object_;
};

}  // namespace moat
