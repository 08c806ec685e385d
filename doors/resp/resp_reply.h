// Writes Redis replies in the protocol a connection speaks: RESP2, or RESP3
// after `HELLO 3` (maps, null and doubles of their own). Each function
// returns or appends the bytes of one reply (or of an aggregate's header,
// its elements following). Pure.
#ifndef QUORUMKV_DOORS_RESP_RESP_REPLY_H_
#define QUORUMKV_DOORS_RESP_RESP_REPLY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace quorumkv {

class RespReply {
 public:
  explicit RespReply(int protocol) : protocol_(protocol) {}
  int protocol() const { return protocol_; }

  // "+text"
  static std::string Simple(absl::string_view text);
  // "-text": `text` starts with the error's code ("ERR ...", "NOAUTH ...");
  // line breaks in it become spaces.
  static std::string Error(absl::string_view text);
  static std::string Integer(int64_t value);
  static std::string Bulk(absl::string_view bytes);
  static std::string Ok() { return "+OK\r\n"; }
  // A missing value: RESP2's "$-1", RESP3's "_".
  std::string Null() const;
  // A missing array (RESP2's "*-1").
  std::string NullArray() const;
  static std::string ArrayHeader(size_t elements);
  // RESP3's "%n"; in RESP2 a flat array of 2n elements.
  std::string MapHeader(size_t pairs) const;
  // An array of bulk strings.
  static std::string BulkArray(const std::vector<std::string>& items);

 private:
  int protocol_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_RESP_RESP_REPLY_H_
