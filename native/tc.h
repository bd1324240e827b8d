#pragma once

#include <napi.h>

namespace moat {

// tcAttach/tcDetach (cls_bpf direct-action on clsact) and deviceAttachments (TCX, cls_bpf and XDP programs of a
// device).
void InitTc(Napi::Env env, Napi::Object exports);

}  // namespace moat
