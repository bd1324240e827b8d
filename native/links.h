#pragma once

#include <napi.h>

namespace moat {

// linkCreate (TCX, XDP), netfilterLinkCreate, linkInfo, linkUpdate, linkDetach.
void InitLinks(Napi::Env env, Napi::Object exports);

}  // namespace moat
