// Failures of kernel and libbpf calls. C++ code throws SysError (safe on any thread); the binding layer turns it
// into a JS Error carrying op/errno/code, which src/datapath/native.ts maps to its BpfError class.
#pragma once

#include <napi.h>

#include <stdexcept>
#include <string>

namespace moat {

class SysError : public std::runtime_error {
 public:
  // subject names the object the call was about: "map 'policy' (fd 12)", "netns /var/run/netns/x", ...
  SysError(std::string op, int err, const std::string& subject, std::string verifierLog = "");

  const std::string& op() const { return op_; }
  int err() const { return err_; }
  const std::string& verifierLog() const { return verifierLog_; }

 private:
  std::string op_;
  int err_;
  std::string verifierLog_;
};

// Symbolic errno ("ENOENT"); kernel-internal codes such as ENOTSUPP (524) included.
std::string ErrnoCode(int err);

// libbpf returns -errno; plain syscalls return -1 and set errno. Both normalise to a positive errno here.
int ErrnoFromResult(long result);

Napi::Error ToJsError(Napi::Env env, const SysError& error);

// Runs a binding body, converting a SysError into a thrown JS error.
template <typename Body>
auto Guarded(Napi::Env env, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const SysError& error) {
    throw ToJsError(env, error);
  }
}

}  // namespace moat
