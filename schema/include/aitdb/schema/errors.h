#pragma once
// Typed errors shared by every aitdb library. Each carries the path it is about and a one-line
// reason; the CLI prints "PATH: reason" and maps the kind to an exit code.
#include <stdexcept>
#include <string>

namespace aitdb {

enum class ErrorKind {
  BadInput,   // a dump file or argument is malformed, truncated or hostile
  Integrity,  // stored data failed a check (blob hash mismatch)
  Store,      // the database could not be opened, migrated or written
  NotFound,   // a run, tensor or file named by the user does not exist
  Usage,      // the command line asks for something contradictory
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string path, std::string reason)
      : std::runtime_error(path.empty() ? reason : path + ": " + reason),
        kind_(kind),
        path_(std::move(path)),
        reason_(std::move(reason)) {}
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }
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

class UsageError : public Error {
 public:
  explicit UsageError(std::string reason) : Error(ErrorKind::Usage, "", std::move(reason)) {}
};

}  // namespace aitdb
