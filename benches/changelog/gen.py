#!/usr/bin/env python3
"""Writes a `git fast-import` stream of a history of conventional commits.

    gen.py COMMITS TAG_EVERY [linear|merges] | git -C REPO fast-import --quiet

Deterministic (seeded). Subjects are conventional (`feat(scope): ...`,
`fix: ...`), about 60 % carry a ticket key (`SHOP-123`), about 20 % a pull
request number (`(#456)`), about 10 % have a body, about 0.5 % are breaking
(`!` or a `BREAKING CHANGE:` footer). A lightweight tag `vMAJOR.MINOR.0`
marks main's tip after every TAG_EVERY-th commit (49 tags for 50,000
commits every 1,000).

`linear` (the default): one line of commits on main.

`merges`: feature branches, as a team works. About a third of the commits
land on main directly; the rest on up to 24 open feature branches of 1-12
commits, each started from one of main's last 3 x TAG_EVERY commits (so
often before the previous tag) and merged into main with a `Merge pull
request #N` commit (about 1 commit in 8 is a merge); now and then a branch
is merged into another branch first, or two into main at once (octopus).
Commit dates follow the order of work, so a branch's commits are older than
tags made before it was merged: the shape where releases must be split by
reachability (`git log PREV..THIS`), not by date.
"""
import random
import sys

class Writer:
    """Writes commits (deterministic content) to the stream; returns their marks."""

    def __init__(self, out, rng):
        self.out, self.rng, self.n = out, rng, 0
        self.kinds = ["feat"] * 30 + ["fix"] * 35 + ["chore"] * 10 + ["docs"] * 8 + ["refactor"] * 8 + ["perf"] * 4 + ["test"] * 5
        self.scopes = [None, None, "api", "cart", "checkout", "db", "ui", "auth"]
        self.words = ("cart total rounding payment provider timeout login session token cache order "
                      "invoice refund currency tax search index page layout button modal email retry").split()
        self.when = 1_600_000_000

    def message(self):
        rng, words = self.rng, self.words
        kind = rng.choice(self.kinds)
        scope = rng.choice(self.scopes)
        breaking = rng.random() < 0.005
        bang = "!" if breaking and rng.random() < 0.5 else ""
        head = f"{kind}({scope}){bang}" if scope else f"{kind}{bang}"
        text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 7)))
        subject = f"{head}: {text}"
        r = rng.random()
        if r < 0.6:
            subject += f" SHOP-{rng.randint(1, 9999)}"
        elif r < 0.8:
            subject += f" (#{rng.randint(1, 20000)})"
        body = ""
        if rng.random() < 0.1:
            body = "\n\n" + " ".join(rng.choice(words) for _ in range(rng.randint(10, 40))) + "\n\nRefs: OPS-" + str(rng.randint(1, 999))
        if breaking and not bang:
            body += "\n\nBREAKING CHANGE: " + " ".join(rng.choice(words) for _ in range(6))
        return subject + body + "\n"

    def commit(self, parents, message=None):
        self.n += 1
        n, out = self.n, self.out
        message = (message or self.message()).encode()
        author = f"Dev {n % 17} <dev{n % 17}@example.com> {self.when + n * 60} +0000"
        content = f"{n}\n".encode()
        out.write(b"commit refs/heads/main\n")
        out.write(f"mark :{n}\n".encode())
        out.write(f"author {author}\ncommitter {author}\n".encode())
        out.write(f"data {len(message)}\n".encode() + message)
        for i, p in enumerate(parents):
            out.write(f"{'from' if i == 0 else 'merge'} :{p}\n".encode())
        out.write(f"M 100644 inline f{n % 64}.txt\ndata {len(content)}\n".encode() + content + b"\n")
        return n

    def tag(self, name, mark):
        self.out.write(f"reset refs/tags/{name}\nfrom :{mark}\n\n".encode())


def linear(w, commits, every):
    minor = 0
    tip = None
    for n in range(1, commits + 1):
        tip = w.commit([tip] if tip else [])
        if n % every == 0 and n < commits:
            minor += 1
            w.tag(f"v1.{minor}.0", tip)
    return tip


def merges(w, commits, every):
    rng = w.rng
    line = [w.commit([])]  # main's first-parent line
    branches = []  # [tip, commits on it]
    minor, pull = 0, 0

    def merge(picked):
        nonlocal pull
        pull += 1
        names = " and ".join(f"feature/{b[0]}" for b in picked)
        parents = [line[-1]] + [b[0] for b in picked]
        line.append(w.commit(parents, f"Merge pull request #{pull} from shop/{names}\n"))
        for b in picked:
            branches.remove(b)

    while w.n < commits:
        before = w.n
        r = rng.random()
        if r < 0.30 or (not branches and r >= 0.42):
            line.append(w.commit([line[-1]]))
        elif r < 0.42 and len(branches) < 24:
            base = line[-rng.randint(1, min(len(line), 3 * every))]
            branches.append([w.commit([base]), 1])
        elif r < 0.85:
            b = rng.choice(branches)
            b[0] = w.commit([b[0]])
            b[1] += 1
        else:
            ready = [b for b in branches if b[1] >= rng.randint(1, 12)]
            if not ready:
                continue
            if len(ready) >= 2 and rng.random() < 0.05:
                merge(rng.sample(ready, 2))
            elif len(branches) >= 2 and rng.random() < 0.08:
                into = rng.choice([b for b in branches if b is not ready[0]])
                into[0] = w.commit([into[0], ready[0][0]], f"Merge branch 'feature/{ready[0][0]}' into feature/{into[0]}\n")
                into[1] += ready[0][1]
                branches.remove(ready[0])
            else:
                merge([ready[0]])
        if before // every != w.n // every and w.n < commits:
            minor += 1
            w.tag(f"v1.{minor}.0", line[-1])
    for b in list(branches):
        merge([b])
    return line[-1]


def main():
    commits = int(sys.argv[1])
    every = int(sys.argv[2])
    shape = sys.argv[3] if len(sys.argv) > 3 else "linear"
    out = sys.stdout.buffer
    w = Writer(out, random.Random(42))
    tip = {"linear": linear, "merges": merges}[shape](w, commits, every)
    out.write(f"reset refs/heads/main\nfrom :{tip}\n\n".encode())
    out.write(b"done\n")

if __name__ == "__main__":
    main()
