"""`reelguard keys csr` and `keys check`: getting and checking a signing certificate that a
real CA issues (the dev chain of `keys init` is for development only)."""

from __future__ import annotations

import sys
from pathlib import Path

from safety.service.cli.connection import EXIT_FAILED, EXIT_OK
from safety.service.cli.output import emitted, json_option


def cmd_keys_csr(args) -> int:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    from signing.keys import signing_request
    from signing.signer import SigningKeyError

    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, args.country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, args.org),
            x509.NameAttribute(NameOID.COMMON_NAME, args.cn),
        ]
    )
    if args.key:
        try:
            key = serialization.load_pem_private_key(Path(args.key).read_bytes(), None)
        except (OSError, ValueError, TypeError):
            # No exception text: parsers may echo key bytes.
            print(f"reelguard: cannot read the private key {args.key}", file=sys.stderr)
            return EXIT_FAILED
        request = signing_request(key, subject)
    else:
        try:
            request = _token_request(args, subject)
        except (SigningKeyError, ValueError) as e:
            print(f"reelguard: {e}", file=sys.stderr)
            return EXIT_FAILED
    pem = request.public_bytes(serialization.Encoding.PEM)
    if args.out:
        Path(args.out).write_bytes(pem)
        print(f"certificate signing request: {args.out}")
    else:
        sys.stdout.write(pem.decode())
    return EXIT_OK


def cmd_keys_watermark_secret(args) -> int:
    """Create the HMAC secret the watermark key is derived from, inside the signing token."""
    from safety.service.config import Config
    from safety.service.signers import token_pin
    from signing.pkcs11 import generate_token_secret
    from signing.signer import SigningKeyError

    config = Config.load(args.config)
    try:
        if not config.signing_pkcs11_module:
            raise SigningKeyError("configure signing_pkcs11_module (the token to create it in)")
        pin = token_pin(config)
    except SigningKeyError as e:
        print(f"reelguard: {e}", file=sys.stderr)
        return EXIT_FAILED
    generate_token_secret(
        config.signing_pkcs11_module, config.signing_pkcs11_token, args.label, pin
    )
    print(
        f"created watermark secret {args.label!r} in token {config.signing_pkcs11_token!r}; "
        f"set watermark_key_pkcs11 = {args.label!r}"
    )
    return EXIT_OK


def _token_request(args, subject):
    """The CSR of the PKCS#11 key the config names (`signing_pkcs11_*`), signed in the token."""
    from safety.service.config import Config
    from safety.service.signers import token_pin
    from signing.pkcs11 import token_signing_request

    config = Config.load(args.config)
    if not config.signing_pkcs11_module:
        raise ValueError("name a key file (--key) or configure signing_pkcs11_module")
    pin = token_pin(config)
    return token_signing_request(
        config.signing_pkcs11_module,
        config.signing_pkcs11_token,
        config.signing_pkcs11_key,
        pin,
        subject,
    )


def cmd_keys_check(args) -> int:
    """Each point of the claim-signing profile for the chain's leaf, and whether the chain
    links up and reaches a configured trust anchor; exit 0 only if all hold."""
    from cryptography import x509

    from signing.profile import chains_to, check_leaf, links

    try:
        chain = x509.load_pem_x509_certificates(Path(args.chain).read_bytes())
        anchors = (
            x509.load_pem_x509_certificates(Path(args.trust_anchors).read_bytes())
            if args.trust_anchors
            else []
        )
    except (OSError, ValueError) as e:
        print(f"reelguard: cannot read certificates: {e}", file=sys.stderr)
        return EXIT_FAILED
    points = check_leaf(chain[0]) + [links(chain)]
    if anchors:
        points.append(chains_to(chain, anchors))
    missed = [p for p in points if not p.ok]
    body = {"points": [{"name": p.name, "ok": p.ok, "detail": p.detail} for p in points]}
    if emitted(args, {**body, "met": len(points) - len(missed), "of": len(points)}):
        return EXIT_OK if not missed else EXIT_FAILED
    for p in points:
        print(f"{'ok  ' if p.ok else 'MISS'} {p.name}" + (f"  ({p.detail})" if p.detail else ""))
    print(f"{len(points) - len(missed)} of {len(points)} profile points met")
    return EXIT_OK if not missed else EXIT_FAILED


def add_key_commands(keys) -> None:
    c = keys.add_parser("csr", help="a certificate signing request for a real CA")
    c.add_argument(
        "--key",
        help="the signing key (PEM); without it, the PKCS#11 key the config names "
        "(signing_pkcs11_module, _token, _key; PIN from its environment variable), "
        "signed inside the token",
    )
    c.add_argument("--cn", required=True, help="common name, e.g. the product's name")
    c.add_argument("--org", required=True, help="organisation")
    c.add_argument("--country", required=True, help="two-letter country code")
    c.add_argument("--out", help="write the CSR here (default: stdout)")
    c.set_defaults(func=cmd_keys_csr)
    w = keys.add_parser(
        "watermark-secret", help="create the watermark key's secret inside the signing token"
    )
    w.add_argument("--label", default="reelguard-watermark", help="the secret's label")
    w.set_defaults(func=cmd_keys_watermark_secret)
    k = keys.add_parser("check", help="which claim-signing profile points a chain misses")
    k.add_argument("chain", help="PEM chain, leaf first")
    k.add_argument("--trust-anchors", help="PEM bundle the chain should reach")
    json_option(k, "reelguard.key-profile/1")
    k.set_defaults(func=cmd_keys_check)
