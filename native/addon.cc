// moat_native: a thin Node-API layer over libbpf and rtnetlink. All policy lives in TypeScript; this file only
// registers the bindings. src/datapath/native.ts is the one consumer and gives them types.
#include <napi.h>

#include "libbpf_log.h"
#include "links.h"
#include "map_ops.h"
#include "monitor.h"
#include "object.h"
#include "prog_ops.h"
#include "ringbuf.h"
#include "rtnl.h"
#include "tc.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  moat::InstallLibbpfPrint();
  moat::BpfObjectHandle::Init(env, exports);
  moat::InitMapOps(env, exports);
  moat::InitProgOps(env, exports);
  moat::InitLinks(env, exports);
  moat::InitTc(env, exports);
  moat::InitRingBuffer(env, exports);
  moat::InitRtnl(env, exports);
  moat::InitMonitor(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(moat_native, Init)
