#include "libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <vector>

namespace moat {

namespace {

thread_local std::string* captureSink = nullptr;

constexpr const char* kLogBegin = "-- BEGIN PROG LOAD LOG --\n";
constexpr const char* kLogEnd = "-- END PROG LOAD LOG --";

int PrintFromLibbpf(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  va_list sizing;
  va_copy(sizing, args);
  int length = std::vsnprintf(nullptr, 0, format, sizing);
  va_end(sizing);
  if (length < 0) return 0;
  std::vector<char> buffer(static_cast<size_t>(length) + 1);
  std::vsnprintf(buffer.data(), buffer.size(), format, args);
  if (captureSink != nullptr) {
    captureSink->append(buffer.data(), static_cast<size_t>(length));
  } else if (level == LIBBPF_WARN) {
    // Outside a capture nobody would see the warning otherwise; stderr keeps it for the operator.
    std::fputs(buffer.data(), stderr);
  }
  return length;
}

}  // namespace

void InstallLibbpfPrint() { libbpf_set_print(PrintFromLibbpf); }

LibbpfLogCapture::LibbpfLogCapture() : previous_(captureSink) { captureSink = &text_; }

LibbpfLogCapture::~LibbpfLogCapture() { captureSink = previous_; }

std::string LibbpfLogCapture::VerifierLog() const {
  size_t begin = text_.find(kLogBegin);
  if (begin == std::string::npos) return "";
  begin += std::char_traits<char>::length(kLogBegin);
  size_t end = text_.find(kLogEnd, begin);
  return text_.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string LibbpfLogCapture::Summary() const {
  constexpr size_t kSummaryLines = 3;
  std::string outside = text_;
  size_t begin = outside.find(kLogBegin);
  if (begin != std::string::npos) {
    size_t end = outside.find(kLogEnd, begin);
    outside.erase(begin, end == std::string::npos ? std::string::npos : end - begin + std::char_traits<char>::length(kLogEnd));
  }
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < outside.size()) {
    size_t newline = outside.find('\n', start);
    if (newline == std::string::npos) newline = outside.size();
    if (newline > start) lines.push_back(outside.substr(start, newline - start));
    start = newline + 1;
  }
  std::string summary;
  size_t first = lines.size() > kSummaryLines ? lines.size() - kSummaryLines : 0;
  for (size_t i = first; i < lines.size(); ++i) summary += (summary.empty() ? "" : "; ") + lines[i];
  return summary;
}

std::string WithLibbpfDetail(const std::string& subject, const LibbpfLogCapture& capture) {
  std::string summary = capture.Summary();
  return summary.empty() ? subject : subject + " [" + summary + "]";
}

}  // namespace moat
