// Work inside another network namespace without moving any Node thread: a short-lived thread joins the namespace,
// runs the work and is joined before returning. Sockets it opens stay bound to that namespace; ifindexes given to
// bpf(2) and netlink are resolved there.
#pragma once

#include <functional>
#include <string>

namespace moat {

// Empty netnsPath runs work on the calling thread. Exceptions thrown by work propagate to the caller.
void RunInNetns(const std::string& netnsPath, const std::function<void()>& work);

}  // namespace moat
