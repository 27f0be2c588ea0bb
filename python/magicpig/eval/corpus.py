"""Long real text from files that Debian ships (no downloads).

Three disjoint sources, so that no measure is taken on text another one
saw:

- capture texts (per layer error): the license texts of
  /usr/share/common-licenses, concatenated in `LICENSES` order;
- held-out text (perplexity) and needle haystacks: Debian changelogs,
  /usr/share/doc/<package>/changelog.Debian.gz, of `PPL_PACKAGES` and
  `HAYSTACK_PACKAGES` respectively (packages of every Debian system; any
  missing one is skipped, and other changelogs in sorted order fill up).

Every text is cut to an exact token count after tokenizing, so a context
length of 4096 means 4096 tokens.
"""

import glob
import gzip
import os

from magicpig.errors import MagicPigError

LICENSE_DIR = "/usr/share/common-licenses"
LICENSES = ["GPL-3", "GPL-2", "LGPL-2.1", "Apache-2.0", "MPL-2.0", "GFDL-1.3",
            "LGPL-2", "MPL-1.1", "GPL-1", "CC0-1.0", "Artistic", "LGPL-3", "BSD"]
DOC_DIR = "/usr/share/doc"
PPL_PACKAGES = ["dpkg", "apt", "coreutils", "bash", "tar", "util-linux"]
HAYSTACK_PACKAGES = ["perl-base", "gzip", "grep", "sed", "findutils", "diffutils",
                     "login", "passwd", "debianutils", "procps", "libc6", "ncurses-base"]


def _read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def license_paths():
    return [os.path.join(LICENSE_DIR, name) for name in LICENSES
            if os.path.isfile(os.path.join(LICENSE_DIR, name))]


def changelog_paths(preferred, exclude=(), reverse=False):
    """Changelogs of `preferred` packages first, then every other one in
    sorted order (reversed with `reverse`, so that two streams that fill up
    from the rest start at opposite ends), minus `exclude`."""
    def path(pkg):
        return os.path.join(DOC_DIR, pkg, "changelog.Debian.gz")
    first = [path(p) for p in preferred if os.path.isfile(path(p))]
    skip = set(first) | {path(p) for p in exclude}
    rest = sorted(p for p in glob.glob(os.path.join(DOC_DIR, "*", "changelog.Debian.gz"))
                  if p not in skip)
    if reverse:
        rest.reverse()
    return first + rest


def token_stream(tokenizer, paths, tokens_needed):
    """Token ids of the files concatenated (blank line between), at least
    `tokens_needed` long; and the files used."""
    ids, used = [], []
    for path in paths:
        text = _read(path).strip()
        if not text:
            continue
        ids.extend(tokenizer.encode(text + "\n\n"))
        used.append(path)
        if len(ids) >= tokens_needed:
            return ids, used
    raise MagicPigError(f"the Debian texts found ({len(used)} files) hold "
                        f"{len(ids)} tokens, {tokens_needed} are needed")


def split_segments(ids, count, length):
    """`count` disjoint consecutive segments of `length` tokens."""
    if len(ids) < count * length:
        raise MagicPigError(f"need {count} x {length} tokens, have {len(ids)}")
    return [ids[i * length:(i + 1) * length] for i in range(count)]


class Corpus:
    """The three sources, tokenized on demand."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.sources = {}

    def capture_text(self, length):
        """First `length` tokens of the concatenated licenses."""
        ids, used = token_stream(self.tokenizer, license_paths(), length)
        self.sources["capture"] = used
        return ids[:length]

    def ppl_texts(self, count, length):
        ids, used = token_stream(self.tokenizer, changelog_paths(PPL_PACKAGES,
                                                                 HAYSTACK_PACKAGES),
                                 count * length)
        self.sources["perplexity"] = used
        return split_segments(ids, count, length)

    def haystacks(self, count, length):
        ids, used = token_stream(self.tokenizer, changelog_paths(HAYSTACK_PACKAGES,
                                                                 PPL_PACKAGES, True),
                                 count * length)
        self.sources["needle haystacks"] = used
        return split_segments(ids, count, length)
