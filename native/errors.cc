#include "errors.h"

#include <cerrno>
#include <cstring>

namespace moat {

namespace {

// Kernel-internal errnos that leak through bpf(2) and that glibc has no name for.
constexpr int kENOTSUPP = 524;

std::string Describe(int err) {
  if (err == kENOTSUPP) return "Operation not supported by this map or program type";
  return std::strerror(err);
}

}  // namespace

SysError::SysError(std::string op, int err, const std::string& subject, std::string verifierLog)
    : std::runtime_error(op + " " + subject + ": " + Describe(err) + " (" + ErrnoCode(err) + ")"),
      op_(std::move(op)),
      err_(err),
      verifierLog_(std::move(verifierLog)) {}

std::string ErrnoCode(int err) {
  if (err == kENOTSUPP) return "ENOTSUPP";
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "E" + std::to_string(err);
}

int ErrnoFromResult(long result) {
  if (result < -1) return static_cast<int>(-result);
  return errno != 0 ? errno : EINVAL;
}

Napi::Error ToJsError(Napi::Env env, const SysError& error) {
  Napi::Error js = Napi::Error::New(env, error.what());
  js.Set("op", Napi::String::New(env, error.op()));
  js.Set("errno", Napi::Number::New(env, error.err()));
  js.Set("code", Napi::String::New(env, ErrnoCode(error.err())));
  if (!error.verifierLog().empty()) js.Set("verifierLog", Napi::String::New(env, error.verifierLog()));
  return js;
}

}  // namespace moat
