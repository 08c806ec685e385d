// The meta commands (mg, ms, md, ma) over the reads, stores and counters
// the classic commands run on (mc_internal.h), with the meta replies'
// codes and flags.
#include "doors/memcached/mc_commands.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "doors/client_flags.h"
#include "doors/memcached/mc_internal.h"
#include "doors/read_modify_write.h"

namespace quorumkv {
namespace {

// The commands' shared internals (mc_internal.h).
using namespace mc_internal;  // NOLINT: this file is their user

// The t flag of mg and ma: whole seconds left (rounded up, so that a key
// set for 100 s shows 100 at once, as memcached's second clock does), -1
// for never.
std::string TtlLeft(int64_t expires_at_ms, int64_t now_ms) {
  if (expires_at_ms == 0) return "-1";
  const int64_t left_ms = expires_at_ms - now_ms;
  return absl::StrCat(left_ms <= 0 ? 0 : (left_ms + 999) / 1000);
}

// The flags a meta reply hands back as they were given: the opaque and
// the key.
void AppendEcho(const McMetaFlag& flag, absl::string_view key,
                std::string* out) {
  if (flag.flag == 'O') absl::StrAppend(out, " O", flag.token);
  if (flag.flag == 'k') absl::StrAppend(out, " k", key);
}

// A meta reply of `code` with the echoed flags only (misses, refusals).
std::string MetaStatus(absl::string_view code, const McRequest& request) {
  std::string out(code);
  for (const McMetaFlag& flag : request.meta.flags) {
    AppendEcho(flag, request.keys[0], &out);
  }
  out += "\r\n";
  return out;
}

}  // namespace

void McMetaGet(McEnv env, McRequest request, McDone done) {
  auto req = std::make_shared<const McRequest>(std::move(request));
  ItemDone reply = [env, req, done](absl::StatusOr<Item> item) {
    if (!item.ok()) return done(McServerError(item.status()));
    const McMeta& meta = req->meta;
    if (meta.has_ttl) {
      env.counters->cmd_touch.fetch_add(1, std::memory_order_relaxed);
    } else {
      env.counters->cmd_get.fetch_add(1, std::memory_order_relaxed);
      (item->found ? env.counters->get_hits : env.counters->get_misses)
          .fetch_add(1, std::memory_order_relaxed);
    }
    if (!item->found) return done(meta.quiet ? "" : MetaStatus("EN", *req));
    const FlaggedValue value = SplitClientFlags(item->stored);
    std::string out =
        meta.value ? absl::StrCat("VA ", value.value.size()) : "HD";
    const int64_t now_ms = NowMs();
    for (const McMetaFlag& flag : meta.flags) {
      switch (flag.flag) {
        case 's': absl::StrAppend(&out, " s", value.value.size()); break;
        case 't':
          absl::StrAppend(&out, " t", TtlLeft(item->expires_at_ms, now_ms));
          break;
        case 'c': absl::StrAppend(&out, " c", CasUnique(item->version)); break;
        case 'f': absl::StrAppend(&out, " f", value.flags); break;
        default: AppendEcho(flag, req->keys[0], &out); break;
      }
    }
    out += "\r\n";
    if (meta.value) absl::StrAppend(&out, value.value, "\r\n");
    done(std::move(out));
  };
  const std::string& key = req->keys[0];
  if (req->meta.has_ttl) {
    TouchAndGet(env.gateway, key, ResolveExptime(req->meta.ttl, NowMs()),
                std::move(reply));
  } else {
    ReadKey(env.gateway, key, std::move(reply));
  }
}

void McMetaSet(McEnv env, McRequest request, McDone done) {
  env.counters->cmd_set.fetch_add(1, std::memory_order_relaxed);
  const McMeta& meta = request.meta;
  auto op = std::make_shared<StoreOp>();
  switch (meta.mode) {
    case 'E': op->mode = StoreMode::kAdd; break;
    case 'A': op->mode = StoreMode::kAppend; break;
    case 'P': op->mode = StoreMode::kPrepend; break;
    case 'R': op->mode = StoreMode::kReplace; break;
    default: op->mode = StoreMode::kSet; break;
  }
  // A cas makes set and replace a cas, as in memcached; add ignores it,
  // append and prepend check it.
  if (meta.has_cas &&
      (op->mode == StoreMode::kSet || op->mode == StoreMode::kReplace)) {
    op->mode = StoreMode::kCas;
  }
  op->has_cas = meta.has_cas;
  op->cas = meta.cas;
  op->key = request.keys[0];
  op->flags = meta.client_flags;
  op->data = std::move(request.data);
  op->expiry = meta.has_ttl ? ResolveExptime(meta.ttl, NowMs()) : McExpiry();
  auto req = std::make_shared<const McRequest>(std::move(request));
  RunStore(env.gateway, std::move(op),
           [req, done](absl::StatusOr<StoreOutcome> outcome) {
             if (!outcome.ok()) return done(McServerError(outcome.status()));
             const bool stored = outcome->result == Stored::kStored;
             if (stored && req->meta.quiet) return done("");
             std::string out = stored ? "HD"
                               : outcome->result == Stored::kNotStored ? "NS"
                               : outcome->result == Stored::kExists    ? "EX"
                                                                       : "NF";
             for (const McMetaFlag& flag : req->meta.flags) {
               if (flag.flag == 'c') {
                 // memcached answers 0 when nothing was stored.
                 absl::StrAppend(&out, " c",
                                 stored && outcome->has_version
                                     ? CasUnique(outcome->version)
                                     : 0);
               } else {
                 AppendEcho(flag, req->keys[0], &out);
               }
             }
             out += "\r\n";
             done(std::move(out));
           });
}

void McMetaDelete(McEnv env, McRequest request, McDone done) {
  auto req = std::make_shared<const McRequest>(std::move(request));
  auto answer = [req, done](absl::string_view code) {
    if (code == "HD" && req->meta.quiet) return done("");
    done(MetaStatus(code, *req));
  };
  if (!req->meta.has_cas) {
    DeleteRequest del;
    del.set_key(req->keys[0]);
    env.gateway->Call(std::move(del), [done, answer](
                                          absl::StatusOr<DeleteResponse> r) {
      if (!r.ok()) return done(McServerError(r.status()));
      answer(r->existed() ? "HD" : "NF");
    });
    return;
  }
  // Only the row whose cas unique the client holds is deleted.
  const uint64_t cas = req->meta.cas;
  ReadModifyWrite(
      env.gateway, req->keys[0],
      [cas](const CurrentRow& row) {
        RowChange change;
        if (row.found && CasUnique(row.version) == cas) {
          change.kind = RowChange::kDelete;
        }
        return change;
      },
      [cas, done, answer](absl::StatusOr<RmwResult> result) {
        if (!result.ok()) return done(McServerError(result.status()));
        const CurrentRow& row = result->before;
        answer(!row.found                          ? "NF"
               : CasUnique(row.version) == cas     ? "HD"
                                                   : "EX");
      });
}

void McMetaArithmetic(McEnv env, McRequest request, McDone done) {
  const McMeta& meta = request.meta;
  const int64_t now_ms = NowMs();
  auto op = std::make_shared<CounterOp>();
  op->incr = meta.mode != 'D' && meta.mode != '-';
  op->delta = meta.delta;
  op->has_cas = meta.has_cas;
  op->cas = meta.cas;
  op->vivify = meta.has_vivify;
  op->vivify_expiry = ResolveExptime(meta.vivify_ttl, now_ms);
  op->initial = meta.initial;
  op->has_ttl = meta.has_ttl;
  op->ttl = ResolveExptime(meta.ttl, now_ms);
  auto req = std::make_shared<const McRequest>(std::move(request));
  RunCounter(
      env.gateway, req->keys[0], std::move(op),
      [req, done](absl::StatusOr<RmwResult> result, Counted counted) {
        if (!result.ok()) return done(McServerError(result.status()));
        const McMeta& meta = req->meta;
        switch (counted.kind) {
          case Counted::kNotFound: return done(MetaStatus("NF", *req));
          case Counted::kExists: return done(MetaStatus("EX", *req));
          case Counted::kNonNumeric: return done(std::string(kNonNumeric));
          case Counted::kUpdated:
          case Counted::kCreated:
            break;
        }
        // memcached's q silences a successful change, not a creation.
        if (counted.kind == Counted::kUpdated && meta.quiet) return done("");
        const std::string number = absl::StrCat(counted.value);
        std::string out =
            meta.value ? absl::StrCat("VA ", number.size()) : "HD";
        const int64_t now_ms = NowMs();
        for (const McMetaFlag& flag : meta.flags) {
          switch (flag.flag) {
            case 'c':
              absl::StrAppend(&out, " c",
                              result->applied ? CasUnique(result->version) : 0);
              break;
            case 't':
              absl::StrAppend(&out, " t",
                              TtlLeft(counted.expires_at_ms, now_ms));
              break;
            default: AppendEcho(flag, req->keys[0], &out); break;
          }
        }
        out += "\r\n";
        if (meta.value) absl::StrAppend(&out, number, "\r\n");
        done(std::move(out));
      });
}

}  // namespace quorumkv
