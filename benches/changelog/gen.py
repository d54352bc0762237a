#!/usr/bin/env python3
"""Writes a `git fast-import` stream of a linear history of conventional commits.

    gen.py COMMITS TAG_EVERY | git -C REPO fast-import --quiet

Deterministic (seeded). Subjects are conventional (`feat(scope): ...`,
`fix: ...`), about 60 % carry a ticket key (`SHOP-123`), about 20 % a pull
request number (`(#456)`), about 10 % have a body, about 0.5 % are breaking
(`!` or a `BREAKING CHANGE:` footer). A lightweight tag `vMAJOR.MINOR.0`
marks every TAG_EVERY-th commit (49 tags for 50,000 commits every 1,000).
"""
import random
import sys

def main():
    commits = int(sys.argv[1])
    every = int(sys.argv[2])
    rng = random.Random(42)
    out = sys.stdout.buffer
    kinds = ["feat"] * 30 + ["fix"] * 35 + ["chore"] * 10 + ["docs"] * 8 + ["refactor"] * 8 + ["perf"] * 4 + ["test"] * 5
    scopes = [None, None, "api", "cart", "checkout", "db", "ui", "auth"]
    words = ("cart total rounding payment provider timeout login session token cache order "
             "invoice refund currency tax search index page layout button modal email retry").split()
    when = 1_600_000_000
    minor = 0
    for n in range(1, commits + 1):
        kind = rng.choice(kinds)
        scope = rng.choice(scopes)
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
        message = (subject + body + "\n").encode()
        author = f"Dev {n % 17} <dev{n % 17}@example.com> {when + n * 60} +0000"
        content = f"{n}\n".encode()
        out.write(b"commit refs/heads/main\n")
        out.write(f"mark :{n}\n".encode())
        out.write(f"author {author}\ncommitter {author}\n".encode())
        out.write(f"data {len(message)}\n".encode() + message)
        if n > 1:
            out.write(f"from :{n - 1}\n".encode())
        out.write(f"M 100644 inline f{n % 64}.txt\ndata {len(content)}\n".encode() + content + b"\n")
        if n % every == 0 and n < commits:
            minor += 1
            out.write(f"reset refs/tags/v1.{minor}.0\nfrom :{n}\n\n".encode())
    out.write(b"done\n")

if __name__ == "__main__":
    main()
