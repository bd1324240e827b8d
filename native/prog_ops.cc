#include "prog_ops.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <vector>

#include "errors.h"
#include "js_util.h"
#include "netns.h"

namespace moat {

namespace {

// The kernel rejects a data_out smaller than the packet, so the default leaves room for any frame we send plus
// whatever a program may push (encapsulation headers).
constexpr uint32_t kDefaultHeadroom = 256;

Napi::Value ProgInfo(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "program fd");
  return Guarded(info.Env(), [&]() {
    bpf_prog_info progInfo{};
    uint32_t length = sizeof(progInfo);
    int rc = bpf_obj_get_info_by_fd(fd, &progInfo, &length);
    if (rc != 0) throw SysError("bpf_obj_get_info_by_fd", ErrnoFromResult(rc), "program fd " + std::to_string(fd));
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("id", progInfo.id);
    result.Set("type", progInfo.type);
    result.Set("name", progInfo.name);
    return result;
  });
}

std::vector<uint8_t> OptionalBytes(Napi::Object options, const char* key) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined() || value.IsNull()) return {};
  if (!value.IsBuffer()) throw Napi::TypeError::New(options.Env(), std::string("testRun ") + key + " must be a Buffer");
  auto buffer = value.As<Napi::Buffer<uint8_t>>();
  return std::vector<uint8_t>(buffer.Data(), buffer.Data() + buffer.Length());
}

uint32_t OptionalU32(Napi::Object options, const char* key, uint32_t fallback) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  if (!value.IsNumber()) throw Napi::TypeError::New(options.Env(), std::string("testRun ") + key + " must be a number");
  return value.As<Napi::Number>().Uint32Value();
}

// progTestRun(fd, {data, repeat?, dataSizeOut?, ctxIn?, ctxSizeOut?, netns?}) -> {retval, data, ctx?, durationNs}.
// netns matters when ctxIn names an ifindex: the kernel resolves it in the calling thread's namespace.
Napi::Value ProgTestRun(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "program fd");
  if (!info[1].IsObject()) throw Napi::TypeError::New(info.Env(), "testRun options must be an object");
  Napi::Object options = info[1].As<Napi::Object>();
  std::vector<uint8_t> data = OptionalBytes(options, "data");
  std::vector<uint8_t> ctxIn = OptionalBytes(options, "ctxIn");
  uint32_t repeat = OptionalU32(options, "repeat", 1);
  uint32_t dataSizeOut = OptionalU32(options, "dataSizeOut", static_cast<uint32_t>(data.size()) + kDefaultHeadroom);
  uint32_t ctxSizeOut = OptionalU32(options, "ctxSizeOut", static_cast<uint32_t>(ctxIn.size()));
  Napi::Value netnsValue = options.Get("netns");
  std::string netns = netnsValue.IsString() ? netnsValue.As<Napi::String>().Utf8Value() : "";
  return Guarded(info.Env(), [&]() {
    std::vector<uint8_t> dataOut(dataSizeOut), ctxOut(ctxSizeOut);
    DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = data.empty() ? nullptr : data.data();
    opts.data_size_in = static_cast<uint32_t>(data.size());
    opts.data_out = dataOut.empty() ? nullptr : dataOut.data();
    opts.data_size_out = dataSizeOut;
    opts.ctx_in = ctxIn.empty() ? nullptr : ctxIn.data();
    opts.ctx_size_in = static_cast<uint32_t>(ctxIn.size());
    opts.ctx_out = ctxOut.empty() ? nullptr : ctxOut.data();
    opts.ctx_size_out = ctxSizeOut;
    opts.repeat = static_cast<int>(repeat);
    RunInNetns(netns, [&]() {
      int rc = bpf_prog_test_run_opts(fd, &opts);
      if (rc != 0) throw SysError("bpf_prog_test_run_opts", ErrnoFromResult(rc), "program fd " + std::to_string(fd));
    });
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("retval", Napi::Number::New(info.Env(), static_cast<int32_t>(opts.retval)));
    result.Set("data", CopyToBuffer(info.Env(), dataOut.data(), opts.data_size_out));
    if (ctxSizeOut > 0) result.Set("ctx", CopyToBuffer(info.Env(), ctxOut.data(), opts.ctx_size_out));
    result.Set("durationNs", opts.duration);
    return result;
  });
}

}  // namespace

void InitProgOps(Napi::Env env, Napi::Object exports) {
  exports.Set("progInfo", Napi::Function::New(env, ProgInfo));
  exports.Set("progTestRun", Napi::Function::New(env, ProgTestRun));
}

}  // namespace moat
