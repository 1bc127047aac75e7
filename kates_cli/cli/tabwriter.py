"""Go's text/tabwriter as kubectl runs it (github.com/liggitt/tabwriter, cli-runtime's GetNewTabWriter: minimum
width 6, padding 3, padded with spaces, RememberWidths), for printers whose cells may hold any text.

Invariants:
- The output is byte for byte what kubectl's tabwriter writes for the same text written in the same pieces: `\\t`
  and `\\v` end a cell, `\\n` and `\\f` end a line (both are written as a newline), a `\\f` or a line of one cell
  flushes what is buffered, and a column is aligned over each block of consecutive lines that have a cell in it
  (so a line break inside a cell cuts the blocks short, as in kubectl). Widths count code points, as Go counts
  runes; a column once widened never narrows again (RememberWidths), across flushes too.
- Nothing recurses: the column blocks, which Go formats recursively (one level per column), are walked with an
  explicit stack, so a template of thousands of columns prints.
- Go's escape byte (0xff) never occurs in text (a str holds no raw bytes), so escapes are not handled.
"""

from __future__ import annotations

MIN_WIDTH = 6
PADDING = 3

_TERMINATORS = frozenset("\t\v\n\f")


class TabWriter:
    """Feed text with `write`; each call returns the text flushed by it (often nothing); `flush` returns the rest."""

    def __init__(self, min_width: int = MIN_WIDTH, padding: int = PADDING) -> None:
        self.min_width = min_width
        self.padding = padding
        self.max_widths: list[int] = []  # RememberWidths
        self._reset()

    def _reset(self) -> None:
        self.lines: list[list[str]] = [[]]  # the cells of each buffered line
        self.cell: list[str] = []  # the text of the cell under way

    @property
    def empty(self) -> bool:
        """Nothing is held: text of whole lines with no tab, `\\v` or `\\f` would pass through as it is."""
        return self.lines == [[]] and not any(self.cell)  # `write` leaves its empty tail as a cell part

    def write(self, text: str) -> str:
        out: list[str] = []
        start = 0
        for i, ch in enumerate(text):
            if ch not in _TERMINATORS:
                continue
            self.cell.append(text[start:i])
            start = i + 1
            line = self.lines[-1]
            line.append("".join(self.cell))
            self.cell = []
            if ch in "\n\f":
                self.lines.append([])
                if ch == "\f" or len(line) == 1:
                    out.append(self.flush())
        self.cell.append(text[start:])
        return "".join(out)

    def flush(self) -> str:
        pending = "".join(self.cell)
        if pending:
            self.lines[-1].append(pending)
        out: list[str] = []
        self._format(out)
        self._reset()
        return "".join(out)

    def _format(self, out: list[str]) -> None:
        """Go's format(): for each block of lines with a cell in the next column, fix that column's width and
        format the block's columns to its right (a stack of frames [line0, this, line1] stands for the recursion)."""
        lines = self.lines
        widths: list[int] = []
        stack = [[0, 0, len(lines)]]
        while stack:
            frame = stack[-1]
            line0, this, line1 = frame
            column = len(widths)
            while this < line1 and column >= len(lines[this]) - 1:
                this += 1
            if this >= line1:
                self._write_lines(out, widths, line0, line1)
                stack.pop()
                if stack:
                    widths.pop()
                continue
            self._write_lines(out, widths, line0, this)
            begin = this
            width = self.min_width
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + self.padding)
                this += 1
            if len(self.max_widths) < column:  # kubectl's fork: adopt the widths of the columns to the left
                self.max_widths += widths[len(self.max_widths) :]
            if len(self.max_widths) == column:
                self.max_widths.append(width)
            elif self.max_widths[column] > width:
                width = self.max_widths[column]
            else:
                self.max_widths[column] = width
            widths.append(width)
            frame[0] = frame[1] = this
            stack.append([begin, begin, this])

    def _write_lines(self, out: list[str], widths: list[int], line0: int, line1: int) -> None:
        last = len(self.lines) - 1
        for i in range(line0, line1):
            for j, cell in enumerate(self.lines[i]):
                out.append(cell)
                if j < len(widths):
                    out.append(" " * (widths[j] - len(cell)))
            if i != last:  # the last line has no line break (yet)
                out.append("\n")
