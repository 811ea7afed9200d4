#!/usr/bin/env python3
"""Every option that `cgprof [SUB...] --help` shows is documented in its man page, every
subcommand has a page, and every page renders with man/groff without a single warning.

Usage: man_test.py CGPROF_BINARY MAN_DIR

Pages: top-level options and the list of subcommands in cgprof.1; the options of `cgprof SUB`
and of all its nested subcommands in cgprof-SUB.1. An option counts as documented when its
long name (or its short name if it has no long one) appears in the page's roff source once
escapes are removed. -h/--help of subcommands is not required (it is everywhere)."""
import os
import re
import subprocess
import sys

failures = []
aliases = []  # (subcommand, alias) pairs seen in --help


def fail(what, why):
    failures.append(what)
    print("FAIL %s: %s" % (what, why))


def ok(what):
    print("ok   %s" % what)


def cli_help(binary, path):
    r = subprocess.run([binary] + path + ["--help"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s %s --help exited %d: %s" % (binary, " ".join(path), r.returncode,
                                                             r.stderr.strip()))
    return r.stdout


def parse_help(text):
    """CLI11 help -> (option name lists, subcommand names)."""
    options, subs, section = [], [], None
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line[:-1]
            continue
        m = re.match(r"^  (\S.*?)(\s{2,}|$)", line)
        if not m:
            continue
        head = m.group(1)
        # "Options" and every option group (CLI11 prints a group under its own heading).
        if section not in ("Subcommands", "Positionals") and head.startswith("-"):
            names = head.split(" ")[0].split(",")
            options.append([n for n in names if n.startswith("-")])
        elif section == "Subcommands":
            # "compare, rank": the name, then its aliases (each must be documented too).
            subs.append(head.split(", ")[0])
            aliases.extend((subs[-1], a) for a in head.split(", ")[1:])
    return options, subs


def page_text(path):
    src = open(path, encoding="utf-8").read()
    src = re.sub(r"\\f(\[[^\]]*\]|.)", "", src)  # font changes
    src = src.replace("\\-", "-").replace("\\&", "").replace("\\%", "")
    return src


def documented(names, text):
    longs = [n for n in names if n.startswith("--")]
    want = longs or names
    missing = [n for n in want if not re.search(r"(?<![\w-])" + re.escape(n) + r"(?![\w-])", text)]
    return missing


def check_renders(page):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="1")
    groff = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", page], capture_output=True,
                           text=True, env=env)
    msgs = (groff.stderr or "").strip()
    man = subprocess.run(["man", "--warnings=all", "-l", page], capture_output=True, text=True,
                         env=env)
    msgs += (man.stderr or "").strip()
    name = os.path.basename(page)
    if groff.returncode != 0 or man.returncode != 0 or msgs:
        fail("%s renders without warnings" % name, msgs or "exit %d/%d" % (groff.returncode,
                                                                          man.returncode))
    elif not man.stdout.strip():
        fail("%s renders without warnings" % name, "man printed nothing")
    else:
        ok("%s renders without warnings" % name)


def main():
    binary, man_dir = sys.argv[1], sys.argv[2]
    pages = sorted(os.path.join(man_dir, f) for f in os.listdir(man_dir)
                   if re.search(r"\.[1-8]$", f))
    if not pages:
        fail("man pages exist", "none in %s" % man_dir)
    for page in pages:
        check_renders(page)

    top_opts, subs = parse_help(cli_help(binary, []))
    top_page = os.path.join(man_dir, "cgprof.1")
    if not os.path.exists(top_page):
        fail("cgprof.1", "missing")
    else:
        text = page_text(top_page)
        for names in top_opts:
            missing = documented(names, text)
            (fail if missing else lambda w, *_: ok(w))("cgprof.1 documents %s" % ",".join(names),
                                                        "not found: %s" % " ".join(missing))
        for sub in subs:
            if re.search(r"cgprof-%s\b" % re.escape(sub), text):
                ok("cgprof.1 mentions cgprof-%s" % sub)
            else:
                fail("cgprof.1 mentions cgprof-%s" % sub, "no 'cgprof-%s' reference" % sub)

    for sub, alias in sorted(set(aliases)):
        page = os.path.join(man_dir, "cgprof-%s.1" % sub)
        for where in (top_page, page):
            if os.path.exists(where) and re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(alias),
                                                   page_text(where)):
                ok("%s documents 'cgprof %s' (alias of %s)" % (os.path.basename(where), alias, sub))
            else:
                fail("%s documents 'cgprof %s' (alias of %s)" % (os.path.basename(where), alias, sub),
                     "alias not found")

    for sub in subs:
        page = os.path.join(man_dir, "cgprof-%s.1" % sub)
        if not os.path.exists(page):
            fail("man page for 'cgprof %s'" % sub, "%s missing" % page)
            continue
        text = page_text(page)
        stack = [[sub]]
        while stack:
            path = stack.pop()
            opts, nested = parse_help(cli_help(binary, path))
            stack.extend(path + [n] for n in nested)
            for n in nested:
                if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(n), text):
                    fail("cgprof-%s.1 documents 'cgprof %s %s'" % (sub, " ".join(path), n),
                         "subcommand name not found")
            for names in opts:
                if set(names) <= {"-h", "--help"}:
                    continue
                what = "cgprof-%s.1 documents 'cgprof %s %s'" % (sub, " ".join(path), ",".join(names))
                missing = documented(names, text)
                if missing:
                    fail(what, "not found: %s" % " ".join(missing))
                else:
                    ok(what)

    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
