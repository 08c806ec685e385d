// A minimal blocking Redis client for tests: sends commands (or raw bytes)
// to a door on 127.0.0.1 and reads whole replies, RESP2 or RESP3, each
// within a deadline. Not thread-safe.
#ifndef QUORUMKV_TESTS_RESP_CLIENT_H_
#define QUORUMKV_TESTS_RESP_CLIENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace quorumkv {

struct RespValue {
  // '+' simple, '-' error, ':' integer, '$' bulk, '*' array, '%' map
  // (elements alternate keys and values), '_' null (also RESP2's "$-1"
  // and "*-1").
  char type = '_';
  std::string text;  // simple, error, bulk
  int64_t integer = 0;
  std::vector<RespValue> elements;

  bool null() const { return type == '_'; }
  // For failure messages: "OK", "(nil)", "(error) ERR ...", "[a, 1]".
  std::string ToString() const;
};

class RespClient {
 public:
  // Connects within `timeout`.
  static absl::StatusOr<RespClient> Connect(int port,
                                            absl::Duration timeout = absl::Seconds(5));
  RespClient(RespClient&& other) noexcept;
  RespClient& operator=(RespClient&& other) noexcept;
  ~RespClient();

  // Sends one command as an array of bulk strings and reads its reply.
  absl::StatusOr<RespValue> Call(const std::vector<std::string>& args);
  // Sends bytes as they are (pipelines, inline commands, garbage).
  absl::Status Send(const std::string& bytes);
  // Reads one reply; DEADLINE_EXCEEDED when none comes within `timeout`,
  // UNAVAILABLE when the server closed the connection.
  absl::StatusOr<RespValue> Read(absl::Duration timeout = absl::Seconds(10));
  // One line of a line-based protocol (memcached's), without its "\r\n".
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout = absl::Seconds(10)) {
    return Line(absl::Now() + timeout);
  }
  // Sends without blocking for longer than `timeout`; returns the bytes the
  // kernel took (fewer than given when the server stopped reading).
  size_t SendSome(const std::string& bytes, absl::Duration timeout);

  static std::string Encode(const std::vector<std::string>& args);

 private:
  explicit RespClient(int fd) : fd_(fd) {}
  // Reads until buffer_ holds `n` bytes from `at`, or a line from `at`.
  absl::Status Fill(size_t want, absl::Time deadline);
  absl::StatusOr<std::string> Line(absl::Time deadline);
  absl::StatusOr<RespValue> Parse(absl::Time deadline);

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_RESP_CLIENT_H_
