// Screen dumps: the VGA's picture as a file, for --screenshot, tests and boot checks.
//
// Design decisions:
// - The file format follows what is on the screen, not the file name: in a text mode the dump
//   is the characters as UTF-8 text (code page 437 mapped to Unicode, trailing spaces trimmed
//   on each line, rows joined with '\n', no newline after the last row), because text is what
//   tests and humans want to grep; in a graphics mode (VGA or VBE) it is a PNG, even when the
//   path ends in ".txt" (callers that care ask Vga::text_mode() first). The one exception is a
//   path ending in ".png": that always gets a PNG, so a text screen can be captured as a
//   picture too.
// - CP437's glyphs for 0x01-0x1F and 0x7F (smileys, arrows, the house) map to their Unicode
//   look-alikes; 0x00 and 0xFF, which draw as blanks, map to a plain space so trimming works.
#pragma once

#include <cstdint>
#include <string>

#include "devices/vga.h"

namespace vx86::core {

// Unicode code point of CP437 character `c` (0x00 and 0xFF give U+0020).
uint32_t cp437_to_unicode(uint8_t c);
// Appends the UTF-8 form of CP437 character `c`.
void append_cp437_utf8(std::string& out, uint8_t c);

// The text screen as UTF-8 (see above); meaningful only when vga.text_mode().
std::string screen_text(const devices::Vga& vga);

// Writes the screen to `path` (text or PNG, see above); false with a message in *err.
bool dump_screen(devices::Vga& vga, const std::string& path, std::string* err);

}  // namespace vx86::core
