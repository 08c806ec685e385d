// Process-wide logging to standard error: the one logging approach of
// QuorumKV (Debian's Abseil predates absl/log).
//
//   QKV_LOG(INFO) << "registered with master " << address;
//
// Each message becomes one line, written with a single write(2) so that lines
// of concurrent threads never interleave. Thread-safe.
#ifndef QUORUMKV_COMMON_LOGGING_H_
#define QUORUMKV_COMMON_LOGGING_H_

#include <sstream>

namespace quorumkv {

enum class LogSeverity { INFO = 0, WARNING = 1, ERROR = 2, FATAL = 3 };

// Messages below this severity are dropped. Default INFO.
void SetMinLogSeverity(LogSeverity severity);
// Prefix of every line, e.g. "master" or "node r1/7101"; default empty.
void SetLogTag(const std::string& tag);

class LogMessage {
 public:
  LogMessage(const char* file, int line, LogSeverity severity);
  ~LogMessage();  // Writes the line; aborts the process for FATAL.
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;

  std::ostream& stream() { return stream_; }

 private:
  const LogSeverity severity_;
  std::ostringstream stream_;
};

}  // namespace quorumkv

#define QKV_LOG(severity)                                     \
  ::quorumkv::LogMessage(__FILE__, __LINE__,                  \
                         ::quorumkv::LogSeverity::severity)   \
      .stream()

#endif  // QUORUMKV_COMMON_LOGGING_H_
