#pragma once

#include <napi.h>

namespace moat {

// progInfo, progTestRun.
void InitProgOps(Napi::Env env, Napi::Object exports);

}  // namespace moat
