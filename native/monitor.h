#pragma once

#include <napi.h>

namespace moat {

// NetlinkMonitorHandle(netns, onEvent): link and address change events of one namespace.
void InitMonitor(Napi::Env env, Napi::Object exports);

}  // namespace moat
