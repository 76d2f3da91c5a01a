// A strict, bounded reader for the configobj files certbot writes
// (renewal/<name>.conf): "key = value" lines, "#" comments, "[section]"
// and "[[subsection]]" headers. The files are read as untrusted input:
// anything else is an error naming the file and line.
#ifndef BULKHEAD_MIGRATE_CONFIGOBJ_H_
#define BULKHEAD_MIGRATE_CONFIGOBJ_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bulkhead::migrate {

// kMaxConfigObjBytes bounds a renewal file: certbot's are well under 4 KiB.
inline constexpr size_t kMaxConfigObjBytes = 64 * 1024;
// kMaxConfigObjEntries bounds the keys and sections of one file.
inline constexpr size_t kMaxConfigObjEntries = 1000;

// ConfSection is one level of a configobj file: its values, in file order
// (keys are unique), and its subsections by name.
struct ConfSection {
  std::map<std::string, std::string> values;
  std::map<std::string, ConfSection> sections;

  // Get returns the value of `key`, or `fallback` when absent.
  std::string Get(const std::string& key, const std::string& fallback = "") const;
  // Section returns the subsection `name`, or nullptr when absent.
  const ConfSection* Section(const std::string& name) const;
};

// ParseConfigObj parses `text` (read from `source`, named in errors). It
// accepts at most two levels of sections, as certbot writes; a value in
// matching single or double quotes loses them. Fails, naming `source` and
// the line, on a line that is none of the accepted forms, a duplicate key
// or section, a subsection outside a section, a NUL byte, more than
// kMaxConfigObjBytes or kMaxConfigObjEntries.
Result<ConfSection> ParseConfigObj(std::string_view text, std::string_view source);

// SplitConfigList splits a configobj list value ("a, b," or "a,") into its
// trimmed non-empty items; a value without a comma is a list of one.
std::vector<std::string> SplitConfigList(std::string_view value);

}  // namespace bulkhead::migrate

#endif  // BULKHEAD_MIGRATE_CONFIGOBJ_H_
