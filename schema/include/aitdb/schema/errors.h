#pragma once
// Typed errors shared by every aitdb library. Each carries the path it is about and a one-line
// reason; the CLI prints "PATH: reason" and maps the kind to an exit code.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aitdb {

enum class ErrorKind {
  BadInput,   // a dump file or argument is malformed, truncated or hostile
  Integrity,  // stored data failed a check (blob hash mismatch)
  Store,      // the database could not be opened, migrated or written
  NotFound,   // a run, tensor or file named by the user does not exist
  Usage,      // the command line asks for something contradictory
  Io,         // an output file (export, report, CSV) could not be created or written
  Internal,   // a library call failed or an invariant of aitdb broke: a bug, not the input's fault
};

// Control characters in a name (a file called "a\nb.npy", a tensor key from a hostile header)
// would split the one-line "PATH: reason" message; they are written as \n, \t, \r or \xHH.
inline std::string escape_for_message(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7F) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// "PATH: reason" (or just the reason when there is no path), escaped so it is always one line.
inline std::string one_line_message(std::string_view path, std::string_view reason) {
  return path.empty() ? escape_for_message(reason) : escape_for_message(path) + ": " + escape_for_message(reason);
}

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string path, std::string reason)
      : std::runtime_error(one_line_message(path, reason)),
        kind_(kind),
        path_(std::move(path)),
        reason_(std::move(reason)) {}
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }
  // Unescaped, as given (what() is the escaped one-line message).
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  ErrorKind kind_;
  std::string path_;
  std::string reason_;
};

// A dump file that cannot be read as what it claims to be.
class FormatError : public Error {
 public:
  FormatError(std::string path, std::string reason)
      : Error(ErrorKind::BadInput, std::move(path), std::move(reason)) {}
};

class IntegrityError : public Error {
 public:
  IntegrityError(std::string what, std::string reason)
      : Error(ErrorKind::Integrity, std::move(what), std::move(reason)) {}
};

class StoreError : public Error {
 public:
  StoreError(std::string db_path, std::string reason)
      : Error(ErrorKind::Store, std::move(db_path), std::move(reason)) {}
};

class NotFoundError : public Error {
 public:
  NotFoundError(std::string what, std::string reason)
      : Error(ErrorKind::NotFound, std::move(what), std::move(reason)) {}
};

class InternalError : public Error {
 public:
  InternalError(std::string what, std::string reason)
      : Error(ErrorKind::Internal, std::move(what), std::move(reason)) {}
};

// An output file that could not be created, written or closed (disk full, no such folder, no
// permission): about the file, never the database.
class IoError : public Error {
 public:
  IoError(std::string file, std::string reason) : Error(ErrorKind::Io, std::move(file), std::move(reason)) {}
};

class UsageError : public Error {
 public:
  explicit UsageError(std::string reason) : Error(ErrorKind::Usage, "", std::move(reason)) {}
};

}  // namespace aitdb
