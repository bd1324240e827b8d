// libbpf reports details (verifier logs, relocation failures) only through its print callback. A capture collects
// them on the current thread so that the error thrown for a failed call can carry them.
#pragma once

#include <string>

namespace moat {

void InstallLibbpfPrint();

class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

  const std::string& text() const { return text_; }
  // The kernel verifier log libbpf printed for a rejected program, empty when there was none.
  std::string VerifierLog() const;
  // libbpf's own explanation of a failure: its last lines outside the verifier log, joined on one line.
  std::string Summary() const;

 private:
  std::string text_;
  std::string* previous_;
};

// subject followed by libbpf's explanation in brackets, when it gave one.
std::string WithLibbpfDetail(const std::string& subject, const LibbpfLogCapture& capture);

}  // namespace moat
