#include "ringbuf.h"

#include <bpf/libbpf.h>

#include <memory>

#include "errors.h"
#include "js_util.h"
#include "poll_watcher.h"

namespace moat {

namespace {

class RingBufferHandle : public Napi::ObjectWrap<RingBufferHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RingBufferHandle",
                       {InstanceMethod("close", &RingBufferHandle::Close),
                        InstanceMethod("consume", &RingBufferHandle::ConsumeNow)});
  }

  explicit RingBufferHandle(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<RingBufferHandle>(info), ring_(nullptr, ring_buffer__free) {
    int mapFd = FdArg(info, 0, "ring buffer map fd");
    if (!info[1].IsFunction()) throw Napi::TypeError::New(info.Env(), "onRecord must be a function");
    onRecord_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(info.Env(), "moat:ringbuf");
    Guarded(info.Env(), [&]() {
      ring_.reset(ring_buffer__new(mapFd, &RingBufferHandle::OnSample, this, nullptr));
      if (!ring_) throw SysError("ring_buffer__new", errno, "ring buffer map fd " + std::to_string(mapFd));
      watcher_ = std::make_unique<PollWatcher>(info.Env(), ring_buffer__epoll_fd(ring_.get()), [this](int status) {
        if (status == 0) Consume();
      });
    });
    // While polling, the callback must stay reachable even if JS drops its handle.
    Ref();
  }

 private:
  static int OnSample(void* self, void* data, size_t size) {
    auto* handle = static_cast<RingBufferHandle*>(self);
    if (handle->closeRequested_) return 0;
    Napi::Env env = handle->Env();
    CallFromLoop(env, handle->onRecord_, *handle->context_, {CopyToBuffer(env, data, size)});
    return 0;
  }

  void Consume() {
    dispatching_ = true;
    ring_buffer__consume(ring_.get());
    dispatching_ = false;
    if (closeRequested_) Release();
  }

  // Drains pending records synchronously (tests and shutdown use it to not depend on loop timing).
  Napi::Value ConsumeNow(const Napi::CallbackInfo& info) {
    if (ring_ && !dispatching_) Consume();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closeRequested_ = true;
    // Freeing the ring buffer inside its own consume loop would pull memory from under libbpf: defer to its end.
    if (!dispatching_) Release();
    return info.Env().Undefined();
  }

  void Release() {
    if (!ring_) return;
    watcher_.reset();
    ring_.reset();
    Unref();
  }

  Napi::FunctionReference onRecord_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::unique_ptr<ring_buffer, void (*)(ring_buffer*)> ring_;
  std::unique_ptr<PollWatcher> watcher_;
  bool dispatching_ = false;
  bool closeRequested_ = false;
};

}  // namespace

void InitRingBuffer(Napi::Env env, Napi::Object exports) {
  exports.Set("RingBufferHandle", RingBufferHandle::Define(env));
}

}  // namespace moat
