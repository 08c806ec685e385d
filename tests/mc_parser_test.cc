// The memcached door's parser (doors/memcached/mc_parser.h): every command
// shape, memcached 1.6.18's error replies, and input that arrives in
// pieces.
#include "doors/memcached/mc_parser.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace quorumkv {
namespace {

McParse Parse(absl::string_view input, McRequest* out) {
  return ParseMcRequest(input, out);
}

// Parses `input`, which must be exactly one whole request.
McRequest ParseOne(absl::string_view input) {
  McRequest request;
  const McParse parsed = ParseMcRequest(input, &request);
  EXPECT_EQ(parsed.kind, McParse::kOk) << input << " replied " << parsed.reply;
  EXPECT_EQ(parsed.bytes, input.size()) << input;
  return request;
}

// Parses `input`, which must be refused with `reply`, dropping `bytes`.
McParse ParseError(absl::string_view input, absl::string_view reply) {
  McRequest request;
  const McParse parsed = ParseMcRequest(input, &request);
  EXPECT_EQ(parsed.kind, McParse::kError) << input;
  EXPECT_EQ(parsed.reply, reply) << input;
  EXPECT_LE(parsed.bytes, input.size()) << input;
  return parsed;
}

// Every proper prefix of a whole request asks for more, and for more than
// it holds.
void ExpectNeedMoreAtEveryPrefix(absl::string_view input) {
  for (size_t i = 0; i < input.size(); ++i) {
    McRequest request;
    const McParse parsed = ParseMcRequest(input.substr(0, i), &request);
    EXPECT_EQ(parsed.kind, McParse::kNeedMore)
        << "prefix of " << i << " bytes of " << input;
    EXPECT_GT(parsed.need, i) << "prefix of " << i << " bytes of " << input;
  }
}

TEST(McParserTest, Set) {
  const McRequest request = ParseOne("set greeting 5 100 5\r\nhello\r\n");
  EXPECT_EQ(request.command, McCommand::kSet);
  EXPECT_EQ(request.keys, std::vector<std::string>{"greeting"});
  EXPECT_EQ(request.flags, 5u);
  EXPECT_EQ(request.exptime, 100);
  EXPECT_EQ(request.data, "hello");
  EXPECT_FALSE(request.noreply);
}

TEST(McParserTest, StorageCommands) {
  EXPECT_EQ(ParseOne("add k 0 0 1\r\na\r\n").command, McCommand::kAdd);
  EXPECT_EQ(ParseOne("replace k 0 0 1\r\na\r\n").command, McCommand::kReplace);
  EXPECT_EQ(ParseOne("append k 0 0 1\r\na\r\n").command, McCommand::kAppend);
  EXPECT_EQ(ParseOne("prepend k 0 0 1\r\na\r\n").command, McCommand::kPrepend);
  const McRequest cas = ParseOne("cas k 3 0 2 12345678901234\r\nab\r\n");
  EXPECT_EQ(cas.command, McCommand::kCas);
  EXPECT_EQ(cas.cas_unique, 12345678901234u);
  EXPECT_EQ(cas.data, "ab");
}

TEST(McParserTest, DataMayHoldLineEnds) {
  EXPECT_EQ(ParseOne("set k 0 0 4\r\n\r\n\r\n\r\n").data, "\r\n\r\n");
  EXPECT_EQ(ParseOne("set k 0 0 0\r\n\r\n").data, "");
}

TEST(McParserTest, Noreply) {
  EXPECT_TRUE(ParseOne("set k 0 0 1 noreply\r\na\r\n").noreply);
  EXPECT_TRUE(ParseOne("cas k 0 0 1 7 noreply\r\na\r\n").noreply);
  EXPECT_TRUE(ParseOne("delete k noreply\r\n").noreply);
  EXPECT_TRUE(ParseOne("incr k 1 noreply\r\n").noreply);
  EXPECT_TRUE(ParseOne("touch k 1 noreply\r\n").noreply);
  EXPECT_TRUE(ParseOne("verbosity 1 noreply\r\n").noreply);
  EXPECT_TRUE(ParseOne("flush_all noreply\r\n").noreply);
  // Another last word is ignored, as memcached ignores it.
  EXPECT_FALSE(ParseOne("set k 0 0 1 please\r\na\r\n").noreply);
}

TEST(McParserTest, NoreplySilencesErrors) {
  const McParse parsed = ParseError("incr k x noreply\r\n", "");
  EXPECT_EQ(parsed.kind, McParse::kError);
  ParseError("touch k soon noreply\r\n", "");
  // A wrong argument count is answered whatever the last word.
  ParseError("incr k 1 2 noreply\r\n", "ERROR\r\n");
}

TEST(McParserTest, Retrieval) {
  const McRequest get = ParseOne("get a b c\r\n");
  EXPECT_EQ(get.command, McCommand::kGet);
  EXPECT_EQ(get.keys, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ParseOne("gets a\r\n").command, McCommand::kGets);
  const McRequest gat = ParseOne("gat 10 a b\r\n");
  EXPECT_EQ(gat.command, McCommand::kGat);
  EXPECT_EQ(gat.exptime, 10);
  EXPECT_EQ(gat.keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ParseOne("gats -1 a\r\n").exptime, -1);
  // memcached answers END to a gat without keys.
  EXPECT_TRUE(ParseOne("gat 10\r\n").keys.empty());
  ParseError("get\r\n", "ERROR\r\n");
  ParseError("gat soon a\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
  // Extra spaces separate nothing.
  EXPECT_EQ(ParseOne("get  a   b \r\n").keys,
            (std::vector<std::string>{"a", "b"}));
}

TEST(McParserTest, Delete) {
  EXPECT_EQ(ParseOne("delete k\r\n").command, McCommand::kDelete);
  EXPECT_FALSE(ParseOne("delete k 0\r\n").noreply);
  EXPECT_TRUE(ParseOne("delete k 0 noreply\r\n").noreply);
  ParseError("delete k 5\r\n",
             "CLIENT_ERROR bad command line format.  "
             "Usage: delete <key> [noreply]\r\n");
  ParseError("delete\r\n", "ERROR\r\n");
  ParseError("delete k 0 noreply x\r\n", "ERROR\r\n");
}

TEST(McParserTest, Arithmetic) {
  const McRequest incr = ParseOne("incr k 18446744073709551615\r\n");
  EXPECT_EQ(incr.command, McCommand::kIncr);
  EXPECT_EQ(incr.delta, 18446744073709551615u);
  EXPECT_EQ(ParseOne("decr k 3\r\n").command, McCommand::kDecr);
  ParseError("incr k x\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
  ParseError("incr k -1\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
  ParseError("incr k 18446744073709551616\r\n",
             "CLIENT_ERROR invalid numeric delta argument\r\n");
  ParseError("incr k\r\n", "ERROR\r\n");
}

TEST(McParserTest, Touch) {
  const McRequest touch = ParseOne("touch k 2592001\r\n");
  EXPECT_EQ(touch.command, McCommand::kTouch);
  EXPECT_EQ(touch.exptime, 2592001);
  ParseError("touch k\r\n", "ERROR\r\n");
  ParseError("touch k later\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
}

TEST(McParserTest, OtherCommands) {
  EXPECT_EQ(ParseOne("version\r\n").command, McCommand::kVersion);
  EXPECT_EQ(ParseOne("quit\r\n").command, McCommand::kQuit);
  EXPECT_EQ(ParseOne("stats\r\n").command, McCommand::kStats);
  EXPECT_EQ(ParseOne("stats settings\r\n").args,
            std::vector<std::string>{"settings"});
  EXPECT_EQ(ParseOne("verbosity 1\r\n").command, McCommand::kVerbosity);
  ParseError("verbosity\r\n", "ERROR\r\n");
  ParseError("verbosity loud\r\n", "CLIENT_ERROR bad command line format\r\n");
  EXPECT_EQ(ParseOne("flush_all\r\n").command, McCommand::kFlushAll);
  EXPECT_EQ(ParseOne("flush_all 0\r\n").exptime, 0);
  EXPECT_EQ(ParseOne("flush_all 10 noreply\r\n").exptime, 10);
  ParseError("flush_all soon\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
  ParseError("flush_all 1 2 3\r\n", "ERROR\r\n");
  EXPECT_EQ(ParseOne("mn\r\n").command, McCommand::kMetaNoop);
}

TEST(McParserTest, UnknownCommands) {
  ParseError("foo\r\n", "ERROR\r\n");
  ParseError("GET k\r\n", "ERROR\r\n");  // names are lower case
  ParseError("\r\n", "ERROR\r\n");
  ParseError("\n", "ERROR\r\n");
  ParseError("g\r\n", "ERROR\r\n");
  ParseError("me k\r\n", "ERROR\r\n");
  ParseError("set k 0 0\r\n", "ERROR\r\n");
  ParseError("set k 0 0 1 noreply x\r\n", "ERROR\r\n");
  ParseError("cas k 0 0 1\r\n", "ERROR\r\n");
  EXPECT_EQ(ParseError("foo\r\n", "ERROR\r\n").bytes, 5u);
  EXPECT_FALSE(ParseError("foo\r\n", "ERROR\r\n").close);
}

TEST(McParserTest, BadNumbers) {
  const std::string bad = "CLIENT_ERROR bad command line format\r\n";
  ParseError("set k -1 0 1\r\na\r\n", bad);
  ParseError("set k 4294967296 0 1\r\na\r\n", bad);
  ParseError("set k 0 2147483648 1\r\na\r\n", bad);
  ParseError("set k 0 0 -1\r\n", bad);
  ParseError("set k 0 0 x\r\n", bad);
  ParseError("cas k 0 0 1 x\r\na\r\n", bad);
  EXPECT_EQ(ParseOne("set k 4294967295 -1 1\r\na\r\n").flags, 4294967295u);
  EXPECT_EQ(ParseOne("set k +7 0 1\r\na\r\n").flags, 7u);
}

TEST(McParserTest, MetaGet) {
  const McRequest request = ParseOne("mg k v f c t s k q Oabc T30\r\n");
  EXPECT_EQ(request.command, McCommand::kMetaGet);
  EXPECT_EQ(request.keys, std::vector<std::string>{"k"});
  EXPECT_TRUE(request.meta.value);
  EXPECT_TRUE(request.meta.quiet);
  EXPECT_TRUE(request.meta.has_ttl);
  EXPECT_EQ(request.meta.ttl, 30);
  const std::vector<McMetaFlag> flags = {{'v', ""}, {'f', ""}, {'c', ""},
                                         {'t', ""}, {'s', ""}, {'k', ""},
                                         {'q', ""}, {'O', "abc"}, {'T', "30"}};
  EXPECT_EQ(request.meta.flags, flags);
  EXPECT_TRUE(ParseOne("mg k\r\n").meta.flags.empty());
  ParseError("mg\r\n", "ERROR\r\n");
}

TEST(McParserTest, MetaSet) {
  const McRequest request = ParseOne("ms k 5 F7 T60 MA C99 q I\r\nhello\r\n");
  EXPECT_EQ(request.command, McCommand::kMetaSet);
  EXPECT_EQ(request.data, "hello");
  EXPECT_EQ(request.meta.client_flags, 7u);
  EXPECT_EQ(request.meta.ttl, 60);
  EXPECT_EQ(request.meta.mode, 'A');
  EXPECT_TRUE(request.meta.has_cas);
  EXPECT_EQ(request.meta.cas, 99u);
  EXPECT_TRUE(request.meta.quiet);
  EXPECT_EQ(ParseOne("ms k 0\r\n\r\n").data, "");
  ParseError("ms k\r\n", "CLIENT_ERROR bad command line format\r\n");
  ParseError("ms k x\r\n", "CLIENT_ERROR bad command line format\r\n");
}

TEST(McParserTest, MetaSetRefusalSwallowsItsData) {
  McParse parsed =
      ParseError("ms k 3 MX\r\nabc\r\n",
                 "CLIENT_ERROR invalid mode for ms M token\r\n");
  EXPECT_EQ(parsed.bytes, 11u);
  EXPECT_EQ(parsed.swallow, 5u);
  parsed = ParseError("ms k 3 zz\r\nabc\r\n", "CLIENT_ERROR invalid flag\r\n");
  EXPECT_EQ(parsed.swallow, 5u);
  // Meta errors are answered even with q.
  ParseError("ms k 3 q MX\r\nabc\r\n",
             "CLIENT_ERROR invalid mode for ms M token\r\n");
}

TEST(McParserTest, MetaDeleteAndArithmetic) {
  const McRequest md = ParseOne("md k q C123 Oxy k\r\n");
  EXPECT_EQ(md.command, McCommand::kMetaDelete);
  EXPECT_TRUE(md.meta.quiet);
  EXPECT_EQ(md.meta.cas, 123u);
  const McRequest ma = ParseOne("ma k N0 J5 D2 MD v t\r\n");
  EXPECT_EQ(ma.command, McCommand::kMetaArithmetic);
  EXPECT_TRUE(ma.meta.has_vivify);
  EXPECT_EQ(ma.meta.initial, 5u);
  EXPECT_EQ(ma.meta.delta, 2u);
  EXPECT_EQ(ma.meta.mode, 'D');
  EXPECT_TRUE(ma.meta.value);
  EXPECT_EQ(ParseOne("ma k\r\n").meta.delta, 1u);
}

TEST(McParserTest, MetaFlagErrors) {
  ParseError("mg k zz\r\n", "CLIENT_ERROR invalid flag\r\n");
  ParseError("mg k v v\r\n", "CLIENT_ERROR duplicate flag\r\n");
  ParseError("mg k Tsoon\r\n",
             "CLIENT_ERROR bad token in command line format\r\n");
  ParseError("mg k Fx\r\n", "CLIENT_ERROR bad command line format\r\n");
  ParseError("mg k MEE\r\n", "CLIENT_ERROR incorrect length for M token\r\n");
  ParseError("ma k Dx\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
  ParseError("md k zz\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
  ParseError("ma k MX\r\n", "CLIENT_ERROR invalid mode for ma M token\r\n");
  ParseError("mg k O" + std::string(32, 'o') + "\r\n",
             "CLIENT_ERROR opaque token too long\r\n");
  ParseOne("mg k O" + std::string(31, 'o') + "\r\n");
  // memcached takes 17 flags after the key, no more.
  const std::string seventeen =
      "mg k v f c t s k q O P L u I T1 F1 C1 J1 D1";
  ParseOne(seventeen + "\r\n");
  ParseError(seventeen + " MS\r\n",
             "CLIENT_ERROR options flags are too long\r\n");
  ParseError("md k q q\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
}

TEST(McParserTest, FlagsTheDoorDoesNotKeep) {
  ParseError("mg k h\r\n", "CLIENT_ERROR invalid flag\r\n");
  ParseError("mg k N30\r\n", "CLIENT_ERROR invalid flag\r\n");
  ParseError("mg k b\r\n", "CLIENT_ERROR invalid flag\r\n");
  ParseError("md k I\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
}

TEST(McParserTest, LoneNewlineEndsLines) {
  EXPECT_EQ(ParseOne("get k\n").keys, std::vector<std::string>{"k"});
  EXPECT_EQ(ParseOne("set k 0 0 1\na\r\n").data, "a");
  EXPECT_EQ(ParseOne("mn\n").command, McCommand::kMetaNoop);
}

TEST(McParserTest, PartialInputNeedsMore) {
  for (const char* request :
       {"set k 1 2 5\r\nhello\r\n", "cas k 0 0 1 9 noreply\r\nx\r\n",
        "get a b\r\n", "gat 10 a\r\n", "delete k noreply\r\n",
        "incr k 1\r\n", "touch k 1\r\n", "version\r\n", "stats\r\n",
        "mg k v\r\n", "ms k 2 T5\r\nab\r\n", "md k q\r\n", "ma k v\r\n",
        "mn\r\n", "get k\n", "set k 0 0 1\na\r\n"}) {
    ExpectNeedMoreAtEveryPrefix(request);
  }
}

TEST(McParserTest, NeedMoreSaysHowMuch) {
  McRequest request;
  McParse parsed = Parse("set k 0 0 5\r\nhe", &request);
  EXPECT_EQ(parsed.kind, McParse::kNeedMore);
  EXPECT_EQ(parsed.need, 13u + 7u);
  EXPECT_FALSE(parsed.line_end_will_do);
  parsed = Parse("delete k", &request);
  EXPECT_EQ(parsed.kind, McParse::kNeedMore);
  EXPECT_TRUE(parsed.line_end_will_do);
  EXPECT_EQ(parsed.need, kMcMaxLineBytes + 1);
  // A get line may grow longer.
  parsed = Parse("get k", &request);
  EXPECT_EQ(parsed.kind, McParse::kNeedMore);
  EXPECT_TRUE(parsed.line_end_will_do);
  EXPECT_EQ(parsed.need, kMcMaxRetrievalLineBytes + 1);
}

TEST(McParserTest, LineTooLong) {
  McParse parsed = ParseError(std::string(kMcMaxLineBytes + 1, 'a'),
                              "CLIENT_ERROR line too long\r\n");
  EXPECT_TRUE(parsed.close);
  parsed = ParseError("set " + std::string(3000, 'k') + " 0 0 1\r\na\r\n",
                      "CLIENT_ERROR line too long\r\n");
  EXPECT_TRUE(parsed.close);
  // 2048 bytes and its "\n" is a line (an unknown command here).
  ParseError(std::string(kMcMaxLineBytes, 'a') + "\n", "ERROR\r\n");
  ParseError(std::string(kMcMaxLineBytes - 1, 'a') + "\r\n", "ERROR\r\n");
}

TEST(McParserTest, LongMultigetIsALine) {
  std::string line = "get";
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) {
    keys.push_back("key:" + std::to_string(i) + std::string(20, 'x'));
    line += " " + keys.back();
  }
  ASSERT_GT(line.size(), kMcMaxLineBytes);
  EXPECT_EQ(ParseOne(line + "\r\n").keys, keys);
  McRequest request;
  const McParse parsed = Parse(line.substr(0, kMcMaxLineBytes + 10), &request);
  EXPECT_EQ(parsed.kind, McParse::kNeedMore);
  EXPECT_EQ(parsed.need, kMcMaxRetrievalLineBytes + 1);
}

TEST(McParserTest, OversizeValueIsSwallowed) {
  const std::string line =
      "set k 0 0 " + std::to_string(kMcMaxDataBytes + 1) + "\r\n";
  McParse parsed =
      ParseError(line + "abc", "SERVER_ERROR object too large for cache\r\n");
  EXPECT_EQ(parsed.bytes, line.size());
  EXPECT_EQ(parsed.swallow, kMcMaxDataBytes + 3);
  EXPECT_FALSE(parsed.close);
  const std::string quiet =
      "set k 0 0 " + std::to_string(kMcMaxDataBytes + 1) + " noreply\r\n";
  parsed = ParseError(quiet, "");
  EXPECT_EQ(parsed.swallow, kMcMaxDataBytes + 3);
  // The largest value passes.
  McRequest request;
  parsed = Parse("set k 0 0 " + std::to_string(kMcMaxDataBytes) + "\r\n",
                 &request);
  EXPECT_EQ(parsed.kind, McParse::kNeedMore);
}

TEST(McParserTest, BadDataChunk) {
  McParse parsed =
      ParseError("set k 0 0 3\r\nabcd\r\n", "CLIENT_ERROR bad data chunk\r\n");
  EXPECT_EQ(parsed.bytes, 13u + 5u);
  EXPECT_FALSE(parsed.close);
  // A lone "\n" does not end a data block.
  ParseError("set k 0 0 1\r\na\nget k\r\n", "CLIENT_ERROR bad data chunk\r\n");
  ParseError("set k 0 0 1 noreply\r\nab\r\n", "");
  ParseError("ms k 1 q\r\nab\r\n", "CLIENT_ERROR bad data chunk\r\n");
}

TEST(McParserTest, Keys) {
  const std::string longest(kMcMaxKeyBytes, 'k');
  EXPECT_EQ(ParseOne("get " + longest + "\r\n").keys[0], longest);
  EXPECT_EQ(ParseOne("set " + longest + " 0 0 1\r\na\r\n").keys[0], longest);
  const std::string bad = "CLIENT_ERROR bad command line format\r\n";
  ParseError("get " + longest + "k\r\n", bad);
  ParseError("get a " + longest + "k b\r\n", bad);
  ParseError("mg " + longest + "k v\r\n", bad);
  ParseError("get a\x01" "b\r\n", bad);
  ParseError("get a\tb\r\n", bad);
  ParseError("delete a\x7f\r\n", bad);
  // UTF-8 is not a control character.
  ParseOne("get caf\xc3\xa9\r\n");
  // Refused before its data block: the block is left to be read as a line.
  const McParse parsed =
      ParseError("set " + longest + "k 0 0 1\r\na\r\n", bad);
  EXPECT_EQ(parsed.bytes, longest.size() + 13);  // "set ", the key, " 0 0 1\r\n"
  EXPECT_EQ(parsed.swallow, 0u);
  EXPECT_TRUE(IsValidMcKey("a"));
  EXPECT_FALSE(IsValidMcKey(""));
  EXPECT_FALSE(IsValidMcKey("a b"));
}

TEST(McParserTest, PipelinedRequests) {
  const std::string input =
      "set a 0 0 1 noreply\r\n1\r\nget a b\r\nincr a 5\nmn\r\nbogus\r\nmg a v";
  std::vector<McCommand> commands;
  size_t at = 0;
  for (;;) {
    McRequest request;
    const McParse parsed = ParseMcRequest(absl::string_view(input).substr(at),
                                          &request);
    if (parsed.kind == McParse::kNeedMore) break;
    at += parsed.bytes;
    if (parsed.kind == McParse::kOk) commands.push_back(request.command);
  }
  EXPECT_EQ(commands, (std::vector<McCommand>{McCommand::kSet, McCommand::kGet,
                                              McCommand::kIncr,
                                              McCommand::kMetaNoop}));
  EXPECT_EQ(input.substr(at), "mg a v");
}

TEST(McParserTest, Numbers) {
  uint64_t value = 0;
  EXPECT_TRUE(ParseMcNumber("12", &value));
  EXPECT_EQ(value, 12u);
  EXPECT_TRUE(ParseMcNumber(" 12", &value));
  EXPECT_TRUE(ParseMcNumber("12  ", &value));
  EXPECT_EQ(value, 12u);
  EXPECT_TRUE(ParseMcNumber("9 trailing", &value));
  EXPECT_EQ(value, 9u);
  EXPECT_TRUE(ParseMcNumber("+5", &value));
  EXPECT_TRUE(ParseMcNumber("-0", &value));
  EXPECT_EQ(value, 0u);
  EXPECT_TRUE(ParseMcNumber("18446744073709551615", &value));
  EXPECT_EQ(value, 18446744073709551615u);
  EXPECT_FALSE(ParseMcNumber("18446744073709551616", &value));
  EXPECT_FALSE(ParseMcNumber("-1", &value));
  EXPECT_FALSE(ParseMcNumber("", &value));
  EXPECT_FALSE(ParseMcNumber("1a", &value));
  EXPECT_FALSE(ParseMcNumber("abc", &value));
}

TEST(McParserTest, ParsesTheSameFromACopy) {
  const std::string input = "ms k 2 F3 T4 c k Oq\r\nhi\r\n";
  McRequest first;
  McRequest second;
  ASSERT_EQ(ParseMcRequest(input, &first).kind, McParse::kOk);
  const std::string copy(input);
  ASSERT_EQ(ParseMcRequest(copy, &second).kind, McParse::kOk);
  EXPECT_TRUE(first == second);
}

}  // namespace
}  // namespace quorumkv
