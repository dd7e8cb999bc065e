#include "audit/report.hpp"

#include <algorithm>
#include <array>

namespace pgguard::audit {

namespace {

constexpr std::size_t kColumns = 5;
// Widest a column gets before its cells wrap: a row stays readable in a 160-column terminal and
// in `bosh run-errand`'s output, and a long difference list does not widen every other row.
constexpr std::array<std::size_t, kColumns> kMaxWidth{14, 48, 46, 56, 6};

// Splits `text` into lines of at most `width` characters, breaking after a space where one
// falls within the line, else hard (a long path).
std::vector<std::string> wrap(const std::string& text, std::size_t width) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    if (text.size() - start <= width) {
      lines.push_back(text.substr(start));
      break;
    }
    std::size_t cut = text.rfind(' ', start + width);
    if (cut == std::string::npos || cut <= start) {
      cut = start + width;
      lines.push_back(text.substr(start, cut - start));
      start = cut;
    } else {
      lines.push_back(text.substr(start, cut - start));
      start = cut + 1;
    }
  }
  if (lines.empty()) {
    lines.emplace_back();
  }
  return lines;
}

std::array<std::string, kColumns> cells_of(const Row& row) {
  return {row.check, row.subject, row.expected, row.found, row.ok ? "ok" : "FAIL"};
}

}  // namespace

std::string render_table(const std::vector<Row>& rows) {
  const std::array<std::string, kColumns> header{"CHECK", "SUBJECT", "EXPECTED", "FOUND", "RESULT"};
  std::array<std::size_t, kColumns> width{};
  for (std::size_t column = 0; column < kColumns; ++column) {
    width[column] = header[column].size();
  }
  for (const auto& row : rows) {
    const auto cells = cells_of(row);
    for (std::size_t column = 0; column < kColumns; ++column) {
      width[column] = std::max(width[column], std::min(cells[column].size(), kMaxWidth[column]));
    }
  }

  std::string out;
  const auto emit = [&](const std::array<std::string, kColumns>& cells) {
    std::array<std::vector<std::string>, kColumns> wrapped;
    std::size_t height = 1;
    for (std::size_t column = 0; column < kColumns; ++column) {
      wrapped[column] = wrap(cells[column], width[column]);
      height = std::max(height, wrapped[column].size());
    }
    for (std::size_t line = 0; line < height; ++line) {
      std::string text;
      for (std::size_t column = 0; column < kColumns; ++column) {
        const std::string& cell = line < wrapped[column].size() ? wrapped[column][line] : "";
        text += cell;
        if (column + 1 < kColumns) {
          text.append(width[column] - cell.size(), ' ');
          text += " | ";
        }
      }
      while (!text.empty() && text.back() == ' ') {
        text.pop_back();
      }
      out += text + "\n";
    }
  };
  emit(header);
  std::string rule;
  for (std::size_t column = 0; column < kColumns; ++column) {
    rule.append(width[column], '-');
    if (column + 1 < kColumns) {
      rule += "-+-";
    }
  }
  out += rule + "\n";
  for (const auto& row : rows) {
    emit(cells_of(row));
  }
  return out;
}

std::size_t failed_rows(const std::vector<Row>& rows) {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [](const Row& row) { return !row.ok; }));
}

}  // namespace pgguard::audit
