#include "tests/resp_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace quorumkv {

std::string RespValue::ToString() const {
  switch (type) {
    case '+':
      return text;
    case '-':
      return "(error) " + text;
    case ':':
      return absl::StrCat(integer);
    case '$':
      return absl::StrCat("\"", text, "\"");
    case '_':
      return "(nil)";
    default: {
      std::vector<std::string> parts;
      for (const RespValue& e : elements) parts.push_back(e.ToString());
      return absl::StrCat(type == '%' ? "{" : "[", absl::StrJoin(parts, ", "),
                          type == '%' ? "}" : "]");
    }
  }
}

absl::StatusOr<RespClient> RespClient::Connect(int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      return RespClient(fd);
    }
    close(fd);
    if (absl::Now() >= deadline) {
      return absl::UnavailableError(absl::StrCat("cannot connect to port ", port));
    }
    absl::SleepFor(absl::Milliseconds(20));  // bounded by the deadline
  }
}

RespClient::RespClient(RespClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

RespClient& RespClient::operator=(RespClient&& other) noexcept {
  if (fd_ >= 0) close(fd_);
  fd_ = std::exchange(other.fd_, -1);
  buffer_ = std::move(other.buffer_);
  return *this;
}

RespClient::~RespClient() {
  if (fd_ >= 0) close(fd_);
}

std::string RespClient::Encode(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& a : args) {
    absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  }
  return out;
}

absl::Status RespClient::Send(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("send: errno ", errno));
    }
    sent += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

size_t RespClient::SendSome(const std::string& bytes, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  size_t sent = 0;
  while (sent < bytes.size()) {
    pollfd p{fd_, POLLOUT, 0};
    const int ms = static_cast<int>(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
    if (poll(&p, 1, ms) <= 0) break;
    const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;
    }
    sent += static_cast<size_t>(n);
  }
  return sent;
}

absl::StatusOr<RespValue> RespClient::Call(const std::vector<std::string>& args) {
  if (absl::Status s = Send(Encode(args)); !s.ok()) return s;
  return Read();
}

absl::Status RespClient::Fill(size_t want, absl::Time deadline) {
  char chunk[65536];
  while (buffer_.size() < want) {
    pollfd p{fd_, POLLIN, 0};
    const int ms = static_cast<int>(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
    const int ready = poll(&p, 1, ms);
    if (ready == 0) return absl::DeadlineExceededError("no reply in time");
    if (ready < 0) continue;
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0) return absl::UnavailableError("the server closed the connection");
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("recv: errno ", errno));
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RespClient::Line(absl::Time deadline) {
  while (true) {
    const size_t end = buffer_.find("\r\n");
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      return line;
    }
    if (absl::Status s = Fill(buffer_.size() + 1, deadline); !s.ok()) return s;
  }
}

absl::StatusOr<RespValue> RespClient::Parse(absl::Time deadline) {
  absl::StatusOr<std::string> line = Line(deadline);
  if (!line.ok()) return line.status();
  if (line->empty()) return absl::DataLossError("empty reply line");
  RespValue v;
  v.type = (*line)[0];
  const std::string rest = line->substr(1);
  switch (v.type) {
    case '+':
    case '-':
      v.text = rest;
      return v;
    case ':':
      if (!absl::SimpleAtoi(rest, &v.integer)) return absl::DataLossError(*line);
      return v;
    case '_':
      return v;
    case '$': {
      int64_t n = 0;
      if (!absl::SimpleAtoi(rest, &n)) return absl::DataLossError(*line);
      if (n < 0) {
        v.type = '_';
        return v;
      }
      if (absl::Status s = Fill(static_cast<size_t>(n) + 2, deadline); !s.ok()) return s;
      v.text = buffer_.substr(0, static_cast<size_t>(n));
      buffer_.erase(0, static_cast<size_t>(n) + 2);
      return v;
    }
    case '*':
    case '%': {
      int64_t n = 0;
      if (!absl::SimpleAtoi(rest, &n)) return absl::DataLossError(*line);
      if (n < 0) {
        v.type = '_';
        return v;
      }
      const int64_t items = v.type == '%' ? 2 * n : n;
      for (int64_t i = 0; i < items; ++i) {
        absl::StatusOr<RespValue> e = Parse(deadline);
        if (!e.ok()) return e.status();
        v.elements.push_back(*std::move(e));
      }
      return v;
    }
    default:
      return absl::DataLossError(absl::StrCat("unknown reply: ", *line));
  }
}

absl::StatusOr<RespValue> RespClient::Read(absl::Duration timeout) {
  return Parse(absl::Now() + timeout);
}

}  // namespace quorumkv
