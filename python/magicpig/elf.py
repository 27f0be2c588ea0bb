"""Is a shared library whole? Checked before `dlopen`, which maps a
truncated file and dies of SIGBUS (no message) on the first page past its
end.

`incomplete(path)` reads the ELF header, the program headers and the
section headers and checks that every table and every segment or section
with contents in the file lies within the file's size.
"""

import os
import struct

_MAGIC = b"\x7fELF"
_PT_LOAD, _SHT_NOBITS = 1, 8


def incomplete(path):
    """None when `path` is a complete ELF file or not an ELF file at all
    (dlopen reports those itself); else a short reason."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            return _check(f, size)
    except OSError as e:
        return e.strerror or str(e)


def _check(f, size):
    ident = f.read(16)
    if ident[:4] != _MAGIC:
        return None
    if len(ident) < 16 or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        return f"the ELF header is cut short or invalid ({size} bytes)"
    wide = ident[4] == 2
    order = "<" if ident[5] == 1 else ">"
    # e_type..e_shstrndx after e_ident
    header = order + ("HHIQQQIHHHHHH" if wide else "HHIIIIIHHHHHH")
    raw = f.read(struct.calcsize(header))
    if len(raw) < struct.calcsize(header):
        return f"the ELF header is cut short ({size} bytes)"
    (_, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
     _) = struct.unpack(header, raw)
    for name, offset, entsize, count in (("program", phoff, phentsize, phnum),
                                         ("section", shoff, shentsize, shnum)):
        if count and offset + entsize * count > size:
            return (f"the {name} header table ends at byte {offset + entsize * count}, "
                    f"past the end of the file at byte {size}")
    ph = order + ("IIQQQQQQ" if wide else "IIIIIIII")
    sh = order + ("IIQQQQIIQQ" if wide else "IIIIIIIIII")
    if (phnum and phentsize < struct.calcsize(ph)) or \
            (shnum and shentsize < struct.calcsize(sh)):
        return "invalid ELF header (header entries too small)"
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        raw = f.read(struct.calcsize(ph))
        if wide:
            p_type, _, p_offset, _, _, p_filesz, _, _ = struct.unpack(ph, raw)
        else:
            p_type, p_offset, _, _, p_filesz, _, _, _ = struct.unpack(ph, raw)
        if p_filesz and p_offset + p_filesz > size:
            kind = "loadable segment" if p_type == _PT_LOAD else "segment"
            return (f"{kind} {i} ends at byte {p_offset + p_filesz}, past the "
                    f"end of the file at byte {size}")
    for i in range(shnum):
        f.seek(shoff + i * shentsize)
        raw = f.read(struct.calcsize(sh))
        fields = struct.unpack(sh, raw)
        sh_type, sh_offset, sh_size = fields[1], fields[4], fields[5]
        if sh_type != _SHT_NOBITS and sh_size and sh_offset + sh_size > size:
            return (f"section {i} ends at byte {sh_offset + sh_size}, past the "
                    f"end of the file at byte {size}")
    return None
