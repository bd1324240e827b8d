#pragma once

#include <napi.h>

namespace moat {

// mapInfo/mapLookup/mapUpdate/mapDelete/mapKeys, batch variants, objPin/objGet/closeFd, possibleCpus.
void InitMapOps(Napi::Env env, Napi::Object exports);

}  // namespace moat
