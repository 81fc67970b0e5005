"""``enachi security keystore DIR --robots robot1,robot2``: the fleet's key material, one command.

Writes (or completes) an SROS2-layout keystore: a CA, one enclave per robot (``/enachi/<id>``),
one for the edge (``/enachi/edge``) and one for watching tools (``/enachi/operator``), each with
its certificate, private key and signed permissions. Then ``security:=true keystore:=DIR`` on
the launch files (or ``enachi bringup --security --keystore DIR``) runs the fleet secured.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("security", help="fleet key material (keystore)")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    keystore = verbs.add_parser(
        "keystore", help="create or complete the fleet keystore (CA, one enclave per robot, edge)",
        description=__doc__.splitlines()[0])
    keystore.add_argument("dir", type=Path, help="keystore folder (created if missing)")
    keystore.add_argument("--robots", required=True,
                          help="comma-separated robot ids, e.g. robot1,robot2,robot3")
    keystore.add_argument("--days", type=int, default=3650,
                          help="validity of certificates and permissions (days)")
    keystore.add_argument("--domain-id", type=int, default=None,
                          help="restrict governance and permissions to this ROS domain "
                          "(default: every domain, 0..232)")
    keystore.set_defaults(func=main)

    def _help(_: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_help)


def main(args: argparse.Namespace) -> int:
    from enachi_ros.tools.security.create import create_keystore

    robots = [r.strip() for r in args.robots.split(",") if r.strip()]
    try:
        if not robots:
            raise ValueError(f"robots: expected at least one robot id, got {args.robots!r}")
        out = create_keystore(args.dir, robots, days=args.days, domain_id=args.domain_id)
    except (ValueError, OSError) as exc:
        print(f"enachi security keystore: error: {exc}", file=sys.stderr)
        return 2
    print(f"keystore {out.root}")
    for label, names in (("created", out.created), ("kept (already there)", out.kept)):
        if names:
            print(f"  {label}: {', '.join(names)}")
    print(f"run secured: enachi bringup --security --keystore {out.root} ...  or  "
          f"ros2 launch enachi_ros robot.launch.py security:=true keystore:={out.root} ...\n"
          "deploy: a robot needs public/, enclaves/governance.p7s, every enclave's cert.pem and "
          "permissions.p7s, and only its own key.pem; private/ stays with the operator")
    return 0
