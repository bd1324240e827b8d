#include "object.h"

#include <cerrno>

#include "errors.h"
#include "js_util.h"
#include "libbpf_log.h"

namespace moat {

namespace {

bpf_object* OpenObject(const std::string& path) {
  LibbpfLogCapture capture;
  bpf_object* object = bpf_object__open_file(path.c_str(), nullptr);
  if (object == nullptr) throw SysError("bpf_object__open_file", errno, WithLibbpfDetail("object " + path, capture));
  return object;
}

// Iterates an options sub-object such as {progName: value}; absent means nothing to apply.
template <typename Apply>
void ForEachEntry(Napi::Object options, const char* key, Apply&& apply) {
  Napi::Value entries = options.Get(key);
  if (entries.IsUndefined() || entries.IsNull()) return;
  if (!entries.IsObject()) throw Napi::TypeError::New(options.Env(), std::string("options.") + key + " must be an object");
  Napi::Object object = entries.As<Napi::Object>();
  Napi::Array names = object.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    apply(name, object.Get(name));
  }
}

uint32_t NumberField(Napi::Env env, Napi::Value value, const std::string& what) {
  if (!value.IsNumber()) throw Napi::TypeError::New(env, what + " must be a number");
  return value.As<Napi::Number>().Uint32Value();
}

}  // namespace

void BpfObjectHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(env, "BpfObjectHandle",
                                           {
                                               InstanceMethod("load", &BpfObjectHandle::Load),
                                               InstanceMethod("programNames", &BpfObjectHandle::ProgramNames),
                                               InstanceMethod("mapNames", &BpfObjectHandle::MapNames),
                                               InstanceMethod("programFd", &BpfObjectHandle::ProgramFd),
                                               InstanceMethod("mapFd", &BpfObjectHandle::MapFd),
                                               InstanceMethod("close", &BpfObjectHandle::Close),
                                           });
  exports.Set("BpfObjectHandle", constructor);
}

BpfObjectHandle::BpfObjectHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<BpfObjectHandle>(info), object_(nullptr, bpf_object__close) {
  path_ = StringArg(info, 0, "path");
  Guarded(info.Env(), [&]() { object_.reset(OpenObject(path_)); });
  if (info[1].IsObject()) Guarded(info.Env(), [&]() { ApplyOptions(info[1].As<Napi::Object>()); });
}

void BpfObjectHandle::ApplyOptions(Napi::Object options) {
  Napi::Env env = options.Env();
  ForEachEntry(options, "programTypes", [&](const std::string& name, Napi::Value value) {
    if (!value.IsObject()) throw Napi::TypeError::New(env, "programTypes." + name + " must be an object");
    Napi::Object spec = value.As<Napi::Object>();
    bpf_program* program = FindProgram(name);
    auto type = static_cast<bpf_prog_type>(NumberField(env, spec.Get("type"), "programTypes." + name + ".type"));
    int rc = bpf_program__set_type(program, type);
    if (rc != 0) throw SysError("bpf_program__set_type", ErrnoFromResult(rc), "program '" + name + "' in " + path_);
    Napi::Value attach = spec.Get("expectedAttachType");
    if (attach.IsUndefined()) return;
    auto attachType = static_cast<bpf_attach_type>(NumberField(env, attach, "programTypes." + name + ".expectedAttachType"));
    rc = bpf_program__set_expected_attach_type(program, attachType);
    if (rc != 0) {
      throw SysError("bpf_program__set_expected_attach_type", ErrnoFromResult(rc), "program '" + name + "' in " + path_);
    }
  });
  ForEachEntry(options, "maxEntries", [&](const std::string& name, Napi::Value value) {
    int rc = bpf_map__set_max_entries(FindMap(name), NumberField(env, value, "maxEntries." + name));
    if (rc != 0) throw SysError("bpf_map__set_max_entries", ErrnoFromResult(rc), "map '" + name + "' in " + path_);
  });
  ForEachEntry(options, "pinMaps", [&](const std::string& name, Napi::Value value) {
    if (!value.IsString()) throw Napi::TypeError::New(env, "pinMaps." + name + " must be a path");
    // At load libbpf reuses a compatible map already pinned there, or creates the map and pins it.
    int rc = bpf_map__set_pin_path(FindMap(name), value.As<Napi::String>().Utf8Value().c_str());
    if (rc != 0) throw SysError("bpf_map__set_pin_path", ErrnoFromResult(rc), "map '" + name + "' in " + path_);
  });
}

bpf_object* BpfObjectHandle::Require(const char* op) const {
  if (!object_) throw SysError(op, EBADF, "object " + path_ + " (closed)");
  return object_.get();
}

bpf_program* BpfObjectHandle::FindProgram(const std::string& name) const {
  bpf_program* program = bpf_object__find_program_by_name(Require("bpf_object__find_program_by_name"), name.c_str());
  if (program == nullptr) throw SysError("bpf_object__find_program_by_name", ENOENT, "program '" + name + "' in " + path_);
  return program;
}

bpf_map* BpfObjectHandle::FindMap(const std::string& name) const {
  bpf_map* map = bpf_object__find_map_by_name(Require("bpf_object__find_map_by_name"), name.c_str());
  if (map == nullptr) throw SysError("bpf_object__find_map_by_name", ENOENT, "map '" + name + "' in " + path_);
  return map;
}

Napi::Value BpfObjectHandle::Load(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&]() {
    bpf_object* object = Require("bpf_object__load");
    if (loaded_) return info.Env().Undefined();
    LibbpfLogCapture capture;
    int rc = bpf_object__load(object);
    if (rc != 0) {
      throw SysError("bpf_object__load", ErrnoFromResult(rc), WithLibbpfDetail("object " + path_, capture),
                     capture.VerifierLog());
    }
    loaded_ = true;
    return info.Env().Undefined();
  });
}

Napi::Value BpfObjectHandle::ProgramNames(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&]() {
    Napi::Array names = Napi::Array::New(info.Env());
    bpf_program* program;
    bpf_object__for_each_program(program, Require("bpf_object__for_each_program")) {
      names.Set(names.Length(), Napi::String::New(info.Env(), bpf_program__name(program)));
    }
    return names;
  });
}

Napi::Value BpfObjectHandle::MapNames(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&]() {
    Napi::Array names = Napi::Array::New(info.Env());
    bpf_map* map;
    bpf_object__for_each_map(map, Require("bpf_object__for_each_map")) {
      names.Set(names.Length(), Napi::String::New(info.Env(), bpf_map__name(map)));
    }
    return names;
  });
}

Napi::Value BpfObjectHandle::ProgramFd(const Napi::CallbackInfo& info) {
  std::string name = StringArg(info, 0, "program name");
  return Guarded(info.Env(), [&]() {
    std::string subject = "program '" + name + "' in " + path_;
    int fd = bpf_program__fd(FindProgram(name));
    if (fd < 0) throw SysError("bpf_program__fd", loaded_ ? ErrnoFromResult(fd) : EBADFD, subject + (loaded_ ? "" : " (object not loaded)"));
    return Napi::Number::New(info.Env(), DupFd(fd, subject));
  });
}

Napi::Value BpfObjectHandle::MapFd(const Napi::CallbackInfo& info) {
  std::string name = StringArg(info, 0, "map name");
  return Guarded(info.Env(), [&]() {
    std::string subject = "map '" + name + "' in " + path_;
    int fd = bpf_map__fd(FindMap(name));
    if (fd < 0) throw SysError("bpf_map__fd", loaded_ ? ErrnoFromResult(fd) : EBADFD, subject + (loaded_ ? "" : " (object not loaded)"));
    return Napi::Number::New(info.Env(), DupFd(fd, subject));
  });
}

Napi::Value BpfObjectHandle::Close(const Napi::CallbackInfo& info) {
  object_.reset();
  loaded_ = false;
  return info.Env().Undefined();
}

}  // namespace moat
