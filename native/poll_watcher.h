// Watches a descriptor for readability on Node's event loop (uv_poll), so reading never blocks the loop, and
// calls JS back from there with a proper callback scope.
#pragma once

#include <napi.h>
#include <uv.h>

#include <functional>
#include <memory>

namespace moat {

class PollWatcher {
 public:
  // onReadable runs on the main thread inside a HandleScope; status < 0 is a libuv error code.
  PollWatcher(Napi::Env env, int fd, std::function<void(int status)> onReadable);
  ~PollWatcher();
  PollWatcher(const PollWatcher&) = delete;
  PollWatcher& operator=(const PollWatcher&) = delete;

  // Stops watching; safe to call from inside onReadable and more than once.
  void Stop();
  bool active() const { return state_ != nullptr; }

 private:
  struct State {
    uv_poll_t handle;
    Napi::Env env;
    std::function<void(int)> onReadable;
  };
  State* state_;
};

// Calls a JS function from a libuv callback: runs microtasks afterwards and turns a thrown exception into an
// 'uncaughtException' on the process instead of losing it.
void CallFromLoop(Napi::Env env, const Napi::FunctionReference& function, Napi::AsyncContext& context,
                  const std::initializer_list<napi_value>& args);

}  // namespace moat
