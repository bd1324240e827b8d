#pragma once

#include <napi.h>

namespace moat {

// RingBufferHandle(mapFd, onRecord): every record of a BPF ring buffer is copied into a Buffer for onRecord.
void InitRingBuffer(Napi::Env env, Napi::Object exports);

}  // namespace moat
