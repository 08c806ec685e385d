#include "common/logging.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace quorumkv {
namespace {

std::atomic<int> min_severity{0};

struct Tag {
  absl::Mutex mu;
  std::string value ABSL_GUARDED_BY(mu);
};

Tag& GlobalTag() {
  static Tag* const tag = new Tag();  // Never destroyed: logged at exit too.
  return *tag;
}

const char* Basename(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash == nullptr ? path : slash + 1;
}

}  // namespace

void SetMinLogSeverity(LogSeverity severity) {
  min_severity.store(static_cast<int>(severity));
}

void SetLogTag(const std::string& tag) {
  Tag& t = GlobalTag();
  absl::MutexLock lock(&t.mu);
  t.value = tag;
}

LogMessage::LogMessage(const char* file, int line, LogSeverity severity)
    : severity_(severity) {
  static constexpr char kLetters[] = "IWEF";
  std::string tag;
  {
    Tag& t = GlobalTag();
    absl::MutexLock lock(&t.mu);
    tag = t.value;
  }
  stream_ << kLetters[static_cast<int>(severity)]
          << absl::FormatTime("%m%d %H:%M:%E3S", absl::Now(),
                              absl::LocalTimeZone())
          << ' ';
  if (!tag.empty()) stream_ << '[' << tag << "] ";
  stream_ << Basename(file) << ':' << line << "] ";
}

LogMessage::~LogMessage() {
  if (static_cast<int>(severity_) >= min_severity.load() ||
      severity_ == LogSeverity::FATAL) {
    stream_ << '\n';
    const std::string line = stream_.str();
    // One write per line keeps concurrent lines whole; a short write to
    // stderr is not worth retrying.
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
  }
  if (severity_ == LogSeverity::FATAL) std::abort();
}

}  // namespace quorumkv
