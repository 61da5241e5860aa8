"""Just enough of the WebAssembly binary format to read and extend a rune's module.

Reads the section list, imports, exports, function types, memory limits and custom sections, with
every length checked; writes custom sections (optionally with their payload aligned in the file,
so a model can be used in place from flash) and patches the memory limits.
"""

from __future__ import annotations

from dataclasses import dataclass

MAGIC = b"\0asm\x01\0\0\0"
PAGE_SIZE = 65536

CUSTOM, TYPE, IMPORT, FUNCTION, TABLE, MEMORY, GLOBAL, EXPORT, START, ELEMENT, CODE, DATA, DATA_COUNT = range(13)
EXTERNAL_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
VALUE_TYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128", 0x70: "funcref", 0x6F: "externref"}


class WasmError(ValueError):
    """The bytes are not a well-formed WebAssembly module."""


@dataclass
class Section:
    id: int
    start: int  # offset of the section id byte
    payload_start: int
    payload_end: int
    name: str | None = None  # custom sections only
    content_start: int = 0  # custom sections: where the payload after the name begins


@dataclass
class Import:
    module: str
    name: str
    kind: str


@dataclass
class Export:
    name: str
    kind: str
    index: int


@dataclass
class MemoryLimits:
    initial: int  # pages
    maximum: int | None


@dataclass(frozen=True)
class FuncType:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


class Reader:
    def __init__(self, data: bytes, offset: int = 0, end: int | None = None):
        self.data = data
        self.pos = offset
        self.end = len(data) if end is None else end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise WasmError(f"unexpected end of data at byte {self.pos}")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u32(self) -> int:
        result = shift = 0
        for _ in range(5):
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                if result >= 1 << 32:
                    raise WasmError(f"integer too large at byte {self.pos}")
                return result
            shift += 7
        raise WasmError(f"malformed integer at byte {self.pos}")

    def bytes(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise WasmError(f"{n} bytes needed at byte {self.pos}, but the data ends at {self.end}")
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(value)

    def name(self) -> str:
        raw = self.bytes(self.u32())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WasmError(f"a name before byte {self.pos} is not UTF-8") from None


def encode_u32(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sections(data: bytes) -> list[Section]:
    if len(data) < 8 or data[:4] != MAGIC[:4]:
        raise WasmError("not a WebAssembly module (bad magic number)")
    if data[4:8] != MAGIC[4:]:
        raise WasmError(f"unsupported WebAssembly version {int.from_bytes(data[4:8], 'little')}")
    found = []
    reader = Reader(data, 8)
    while reader.pos < len(data):
        start = reader.pos
        section_id = reader.byte()
        size = reader.u32()
        payload_start = reader.pos
        if payload_start + size > len(data):
            raise WasmError(f"section {section_id} at byte {start} runs past the end of the file (truncated?)")
        section = Section(section_id, start, payload_start, payload_start + size)
        if section_id == CUSTOM:
            inner = Reader(data, payload_start, payload_start + size)
            section.name = inner.name()
            section.content_start = inner.pos
        elif section_id > DATA_COUNT:
            raise WasmError(f"unknown section id {section_id} at byte {start}")
        found.append(section)
        reader.pos = payload_start + size
    return found


def custom_sections(data: bytes) -> dict[str, Section]:
    """Custom sections by name (the first of each name)."""
    result = {}
    for s in sections(data):
        if s.id == CUSTOM and s.name not in result:
            result[s.name] = s
    return result


def imports(data: bytes) -> list[Import]:
    found = []
    for s in sections(data):
        if s.id != IMPORT:
            continue
        r = Reader(data, s.payload_start, s.payload_end)
        for _ in range(r.u32()):
            module, name, kind = r.name(), r.name(), r.byte()
            _skip_import_description(r, kind)
            found.append(Import(module, name, EXTERNAL_KINDS.get(kind, str(kind))))
    return found


def _skip_import_description(r: Reader, kind: int) -> None:
    if kind == 0:  # function: type index
        r.u32()
    elif kind == 1:  # table: element type + limits
        r.byte()
        _limits(r)
    elif kind == 2:
        _limits(r)
    elif kind == 3:  # global: value type + mutability
        r.byte()
        r.byte()
    else:
        raise WasmError(f"unknown import kind {kind}")


def _limits(r: Reader) -> MemoryLimits:
    flags = r.byte()
    initial = r.u32()
    maximum = r.u32() if flags & 1 else None
    return MemoryLimits(initial, maximum)


def exports(data: bytes) -> list[Export]:
    found = []
    for s in sections(data):
        if s.id != EXPORT:
            continue
        r = Reader(data, s.payload_start, s.payload_end)
        for _ in range(r.u32()):
            name, kind, index = r.name(), r.byte(), r.u32()
            found.append(Export(name, EXTERNAL_KINDS.get(kind, str(kind)), index))
    return found


def function_types(data: bytes) -> list[FuncType]:
    """The type of every function, by function index: the imported ones first, as the module numbers them."""
    types: list[FuncType] = []
    imported: list[int] = []
    defined: list[int] = []
    for s in sections(data):
        r = Reader(data, s.payload_start, s.payload_end)
        if s.id == TYPE:
            types = [_func_type(r) for _ in range(r.u32())]
        elif s.id == IMPORT:
            for _ in range(r.u32()):
                r.name()
                r.name()
                kind = r.byte()
                if kind == 0:
                    imported.append(r.u32())
                else:
                    _skip_import_description(r, kind)
        elif s.id == FUNCTION:
            defined = [r.u32() for _ in range(r.u32())]
    try:
        return [types[index] for index in imported + defined]
    except IndexError:
        raise WasmError(f"a function has a type index beyond the {len(types)} types") from None


def _func_type(r: Reader) -> FuncType:
    if r.byte() != 0x60:
        raise WasmError(f"malformed function type at byte {r.pos - 1}")
    params = tuple(_value_type(r) for _ in range(r.u32()))
    return FuncType(params, tuple(_value_type(r) for _ in range(r.u32())))


def _value_type(r: Reader) -> str:
    code = r.byte()
    if code not in VALUE_TYPES:
        raise WasmError(f"unknown value type 0x{code:02x} at byte {r.pos - 1}")
    return VALUE_TYPES[code]


def memory_limits(data: bytes) -> MemoryLimits | None:
    for s in sections(data):
        if s.id == MEMORY:
            r = Reader(data, s.payload_start, s.payload_end)
            if r.u32() != 1:
                raise WasmError("a rune must define exactly one memory")
            return _limits(r)
    return None


def global_initial_i32(data: bytes, export_name: str) -> int | None:
    """The constant initial value of an exported i32 global (e.g. __heap_base)."""
    wanted = next((e.index for e in exports(data) if e.name == export_name and e.kind == "global"), None)
    if wanted is None:
        return None
    imported = sum(1 for i in imports(data) if i.kind == "global")
    for s in sections(data):
        if s.id != GLOBAL:
            continue
        r = Reader(data, s.payload_start, s.payload_end)
        for index in range(imported, imported + r.u32()):
            r.byte()  # value type
            r.byte()  # mutability
            opcode = r.byte()
            if opcode != 0x41:  # i32.const
                raise WasmError("unexpected global initialiser")
            value = _signed_leb(r)
            if r.byte() != 0x0B:
                raise WasmError("unexpected global initialiser")
            if index == wanted:
                return value & 0xFFFFFFFF
    return None


def _signed_leb(r: Reader) -> int:
    result = shift = 0
    while True:
        b = r.byte()
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if b & 0x40:
                result -= 1 << shift
            return result
        if shift > 35:
            raise WasmError("malformed signed integer")


def set_memory_limits(data: bytes, initial: int, maximum: int) -> bytes:
    """Rewrite the memory section with new page counts (addresses in the module are unaffected)."""
    for s in sections(data):
        if s.id == MEMORY:
            payload = encode_u32(1) + b"\x01" + encode_u32(initial) + encode_u32(maximum)
            section = bytes([MEMORY]) + encode_u32(len(payload)) + payload
            return data[:s.start] + section + data[s.payload_end:]
    raise WasmError("the module has no memory section")


def custom_section(name: str, content: bytes) -> bytes:
    encoded = name.encode("utf-8")
    payload = encode_u32(len(encoded)) + encoded + content
    return bytes([CUSTOM]) + encode_u32(len(payload)) + payload


def append_custom_section(data: bytes, name: str, content: bytes, align: int = 1) -> tuple[bytes, int]:
    """Append a custom section; with align > 1 a padding section first puts the content at an
    aligned file offset. Returns the new module and the content's offset."""
    section = custom_section(name, content)
    header = len(section) - len(content)
    if align > 1 and (len(data) + header) % align:
        for pad in range(align * 2):
            padding = custom_section("rune.pad", b"\0" * pad)
            if (len(data) + len(padding) + header) % align == 0:
                data += padding
                break
    return data + section, len(data) + header
