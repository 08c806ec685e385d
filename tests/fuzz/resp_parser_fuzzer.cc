// Fuzzes the RESP door's command parser (doors/resp/resp_parser.h): any
// bytes a client sends give a command, a request for more bytes, or one of
// Redis's protocol errors, never a crash; a command never claims more bytes
// than were given and parses the same again from its own bytes; a request
// for more stays one, or turns into an answer, as bytes are appended.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "doors/resp/resp_parser.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quorumkv;
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  const RespParse parsed = ParseRespCommand(input, &args);
  switch (parsed.kind) {
    case RespParse::kCommand: {
      FuzzCheck(parsed.bytes > 0 && parsed.bytes <= input.size());
      std::vector<std::string> again;
      const RespParse reparsed =
          ParseRespCommand(input.substr(0, parsed.bytes), &again);
      FuzzCheck(reparsed.kind == RespParse::kCommand);
      FuzzCheck(reparsed.bytes == parsed.bytes);
      FuzzCheck(again == args);
      size_t total = 0;
      for (const std::string& a : args) total += a.size();
      FuzzCheck(total <= input.size());
      break;
    }
    case RespParse::kNeedMore: {
      FuzzCheck(args.empty());
      FuzzCheck(parsed.bytes == 0 || parsed.bytes > input.size());
      // More bytes never turn a partial command into a crash.
      std::vector<std::string> more;
      ParseRespCommand(input + "\r\n$1\r\nx\r\n", &more);
      break;
    }
    case RespParse::kError:
      FuzzCheck(args.empty());
      FuzzCheck(!parsed.error.empty());
      FuzzCheck(parsed.error.rfind("Protocol error: ", 0) == 0);
      break;
  }
  return 0;
}
