#include "common/data_dir.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"

namespace quorumkv {
namespace fs = std::filesystem;
namespace {

constexpr char kIdentityFile[] = "IDENTITY";

std::string NewId() {
  absl::BitGen gen;
  return absl::StrFormat("%012x",
                         absl::Uniform<uint64_t>(gen) & 0xffffffffffffULL);
}

absl::StatusOr<DataDirIdentity> ReadIdentity(const fs::path& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path.string());
  if (!text.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path.string(), ": ", text.status().message()));
  }
  DataDirIdentity identity;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (absl::ConsumePrefix(&line, "kind=")) identity.kind = std::string(line);
    if (absl::ConsumePrefix(&line, "id=")) identity.id = std::string(line);
    if (absl::ConsumePrefix(&line, "cluster=")) {
      identity.cluster = std::string(line);
    }
  }
  if (identity.kind.empty() || identity.id.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path.string(), " is malformed: it needs kind= and id="));
  }
  return identity;
}

absl::Status WriteIdentity(const fs::path& path,
                           const DataDirIdentity& identity) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "kind=" << identity.kind << "\nid=" << identity.id << "\n";
    if (!identity.cluster.empty()) out << "cluster=" << identity.cluster << "\n";
    out.flush();
    if (!out) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write ", tmp.string()));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot rename ", tmp.string(), " to ", path.string(), ": ",
        ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DataDirIdentity> OpenDataDir(const std::string& dir,
                                            absl::string_view kind) {
  if (dir.empty()) {
    return absl::InvalidArgumentError("--data_dir is required");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create data dir ", dir, ": ", ec.message()));
  }
  const fs::path identity_path = fs::path(dir) / kIdentityFile;
  if (fs::exists(identity_path)) {
    auto identity = ReadIdentity(identity_path);
    if (!identity.ok()) return identity.status();
    if (identity->kind != kind) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data dir ", dir, " belongs to a ", identity->kind, ", not a ",
          kind, "; give this ", kind, " a data dir of its own"));
    }
    return identity;
  }
  if (!fs::is_empty(dir, ec) || ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", dir, " is not empty and has no ", kIdentityFile,
        " file: it is not a QuorumKV data dir; use an empty or new directory"));
  }
  DataDirIdentity identity;
  identity.kind = std::string(kind);
  identity.id = NewId();
  if (absl::Status s = WriteIdentity(identity_path, identity); !s.ok()) {
    return s;
  }
  return identity;
}

absl::Status RecordCluster(const std::string& dir, DataDirIdentity* identity,
                           const std::string& cluster) {
  DataDirIdentity updated = *identity;
  updated.cluster = cluster;
  if (absl::Status s = WriteIdentity(fs::path(dir) / kIdentityFile, updated);
      !s.ok()) {
    return s;
  }
  *identity = std::move(updated);
  return absl::OkStatus();
}

std::string NewClusterId() {
  absl::BitGen gen;
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
}

DiskSpace GetDiskSpace(const std::string& dir) {
  std::error_code ec;
  const fs::space_info info = fs::space(dir, ec);
  if (ec) return {};
  return {info.capacity, info.available};
}

}  // namespace quorumkv
