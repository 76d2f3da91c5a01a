#include "migrate/configobj.h"

#include <fmt/format.h>

namespace bulkhead::migrate {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Unquote removes one pair of matching quotes around a whole value.
std::string Unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return std::string(v.substr(1, v.size() - 2));
  }
  return std::string(v);
}

// HeaderDepth returns 1 for "[name]", 2 for "[[name]]" and puts the name in
// `out_name`; 0 if the line is not a well-formed header.
int HeaderDepth(std::string_view line, std::string* out_name) {
  int depth = 0;
  while (depth < static_cast<int>(line.size()) && line[depth] == '[') {
    ++depth;
  }
  if (depth < 1 || depth > 2 || line.size() < static_cast<size_t>(2 * depth + 1)) {
    return 0;
  }
  std::string_view close = line.substr(line.size() - depth);
  if (close != std::string_view("]]").substr(0, depth)) {
    return 0;
  }
  std::string_view name = Trim(line.substr(depth, line.size() - 2 * depth));
  if (name.empty() || name.find_first_of("[]") != std::string_view::npos) {
    return 0;
  }
  *out_name = std::string(name);
  return depth;
}

}  // namespace

std::string ConfSection::Get(const std::string& key, const std::string& fallback) const {
  auto it = values.find(key);
  return it == values.end() ? fallback : it->second;
}

const ConfSection* ConfSection::Section(const std::string& name) const {
  auto it = sections.find(name);
  return it == sections.end() ? nullptr : &it->second;
}

Result<ConfSection> ParseConfigObj(std::string_view text, std::string_view source) {
  if (text.size() > kMaxConfigObjBytes) {
    return Err("{}: larger than {} bytes", source, kMaxConfigObjBytes);
  }
  if (text.find('\0') != std::string_view::npos) {
    return Err("{}: contains a NUL byte", source);
  }
  ConfSection root;
  ConfSection* section = nullptr;  // The current [section], if any.
  ConfSection* current = &root;    // Where the next value goes.
  size_t entries = 0;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (++entries > kMaxConfigObjEntries) {
      return Err("{}:{}: more than {} entries", source, line_no, kMaxConfigObjEntries);
    }
    if (line.front() == '[') {
      std::string name;
      int depth = HeaderDepth(line, &name);
      if (depth == 0) {
        return Err("{}:{}: malformed section header", source, line_no);
      }
      ConfSection* parent = depth == 1 ? &root : section;
      if (parent == nullptr) {
        return Err("{}:{}: subsection [[{}]] outside any section", source, line_no, name);
      }
      if (parent->sections.count(name) != 0) {
        return Err("{}:{}: section {} given twice", source, line_no, name);
      }
      current = &parent->sections[name];
      if (depth == 1) {
        section = current;
      }
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Err("{}:{}: expected \"key = value\"", source, line_no);
    }
    std::string key = Unquote(Trim(line.substr(0, eq)));
    if (key.empty()) {
      return Err("{}:{}: empty key", source, line_no);
    }
    if (current->values.count(key) != 0) {
      return Err("{}:{}: key {} given twice", source, line_no, key);
    }
    current->values[key] = Unquote(Trim(line.substr(eq + 1)));
  }
  return root;
}

std::vector<std::string> SplitConfigList(std::string_view value) {
  std::vector<std::string> out;
  while (true) {
    size_t comma = value.find(',');
    std::string item = Unquote(Trim(value.substr(0, comma)));
    if (!item.empty()) {
      out.push_back(std::move(item));
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace bulkhead::migrate
