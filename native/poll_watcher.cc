#include "poll_watcher.h"

#include <cerrno>

#include "errors.h"

namespace moat {

PollWatcher::PollWatcher(Napi::Env env, int fd, std::function<void(int status)> onReadable)
    : state_(new State{uv_poll_t{}, env, std::move(onReadable)}) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    delete state_;
    throw SysError("napi_get_uv_event_loop", EINVAL, "fd " + std::to_string(fd));
  }
  int rc = uv_poll_init(loop, &state_->handle, fd);
  if (rc != 0) {
    delete state_;
    throw SysError("uv_poll_init", -rc, "fd " + std::to_string(fd));
  }
  state_->handle.data = state_;
  rc = uv_poll_start(&state_->handle, UV_READABLE, [](uv_poll_t* handle, int status, int) {
    auto* state = static_cast<State*>(handle->data);
    Napi::HandleScope scope(state->env);
    state->onReadable(status);
  });
  if (rc != 0) {
    Stop();
    throw SysError("uv_poll_start", -rc, "fd " + std::to_string(fd));
  }
}

PollWatcher::~PollWatcher() { Stop(); }

void PollWatcher::Stop() {
  if (state_ == nullptr) return;
  uv_poll_stop(&state_->handle);
  // The handle's memory must outlive libuv's close; the State goes with it. If Stop runs inside onReadable, the
  // running std::function is destroyed only after the callback has returned.
  uv_close(reinterpret_cast<uv_handle_t*>(&state_->handle),
           [](uv_handle_t* handle) { delete static_cast<State*>(handle->data); });
  state_ = nullptr;
}

void CallFromLoop(Napi::Env env, const Napi::FunctionReference& function, Napi::AsyncContext& context,
                  const std::initializer_list<napi_value>& args) {
  try {
    function.MakeCallback(env.Global(), args, context);
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env, error.Value());
  }
}

}  // namespace moat
