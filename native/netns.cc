#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <thread>

#include "errors.h"

namespace moat {

namespace {

void JoinNetns(const std::string& netnsPath) {
  int fd = open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw SysError("open", errno, "netns " + netnsPath);
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc != 0) throw SysError("setns", err, "netns " + netnsPath);
}

}  // namespace

void RunInNetns(const std::string& netnsPath, const std::function<void()>& work) {
  if (netnsPath.empty()) {
    work();
    return;
  }
  std::exception_ptr failure;
  std::thread worker([&]() {
    try {
      JoinNetns(netnsPath);
      work();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace moat
