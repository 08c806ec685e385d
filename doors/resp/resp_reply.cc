#include "doors/resp/resp_reply.h"

#include "absl/strings/str_cat.h"

namespace quorumkv {

std::string RespReply::Simple(absl::string_view text) {
  return absl::StrCat("+", text, "\r\n");
}

std::string RespReply::Error(absl::string_view text) {
  std::string out = absl::StrCat("-", text, "\r\n");
  for (size_t i = 1; i + 2 < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  }
  return out;
}

std::string RespReply::Integer(int64_t value) {
  return absl::StrCat(":", value, "\r\n");
}

std::string RespReply::Bulk(absl::string_view bytes) {
  std::string out = absl::StrCat("$", bytes.size(), "\r\n");
  out.reserve(out.size() + bytes.size() + 2);
  out.append(bytes.data(), bytes.size());
  out.append("\r\n");
  return out;
}

std::string RespReply::Null() const {
  return protocol_ >= 3 ? "_\r\n" : "$-1\r\n";
}

std::string RespReply::NullArray() const {
  return protocol_ >= 3 ? "_\r\n" : "*-1\r\n";
}

std::string RespReply::ArrayHeader(size_t elements) {
  return absl::StrCat("*", elements, "\r\n");
}

std::string RespReply::MapHeader(size_t pairs) const {
  return protocol_ >= 3 ? absl::StrCat("%", pairs, "\r\n")
                        : absl::StrCat("*", 2 * pairs, "\r\n");
}

std::string RespReply::BulkArray(const std::vector<std::string>& items) {
  std::string out = ArrayHeader(items.size());
  for (const std::string& item : items) out += Bulk(item);
  return out;
}

}  // namespace quorumkv
