# Writes python-written.json: items encrypted and signed by the Python
# DynamoDB Encryption Client itself (encrypt_dynamodb_item with a static
# provider), holding the values whose canonical form differs from Java's:
# signed -0, signed numbers of 29-38 significant digits (which Python rounds
# to 28 before signing), in N and NS, nested too, and, beside them, binary
# sets and string sets whose Python order differs from Java's.
#
# Run with the src/ directory of aws/aws-dynamodb-encryption-python (3.3.0,
# commit 2ae188138cd3) and the cryptography, boto3 and attrs packages:
#   PYREF_SRC=.../src python3 python-writer.py > python-written.json
# Keys: aesKey and hmacKey of the reference vectors' keys.json.
import base64, json, os, sys

sys.path.insert(0, os.environ["PYREF_SRC"])
from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey
from dynamodb_encryption_sdk.encrypted import CryptoConfig
from dynamodb_encryption_sdk.encrypted.item import encrypt_dynamodb_item
from dynamodb_encryption_sdk.identifiers import CryptoAction, EncryptionKeyType, KeyEncodingType
from dynamodb_encryption_sdk.material_providers.static import StaticCryptographicMaterialsProvider
from dynamodb_encryption_sdk.materials.raw import RawDecryptionMaterials, RawEncryptionMaterials
from dynamodb_encryption_sdk.structures import AttributeActions, EncryptionContext

aes = JceNameLocalDelegatedKey(bytes(range(16)), "AES", EncryptionKeyType.SYMMETRIC, KeyEncodingType.RAW)
mac = JceNameLocalDelegatedKey(bytes(range(8)), "HmacSHA256", EncryptionKeyType.SYMMETRIC, KeyEncodingType.RAW)
provider = StaticCryptographicMaterialsProvider(
    encryption_materials=RawEncryptionMaterials(signing_key=mac, encryption_key=aes),
    decryption_materials=RawDecryptionMaterials(verification_key=mac, decryption_key=aes),
)
actions = AttributeActions(
    default_action=CryptoAction.SIGN_ONLY,
    attribute_actions={"secret": CryptoAction.ENCRYPT_AND_SIGN, "secretLong": CryptoAction.ENCRYPT_AND_SIGN, "views": CryptoAction.DO_NOTHING},
)

LONG31 = "1234567890123456789012345678901"
LONG38 = "-12345678901234567890123456789012345.678"
cases = {
    "negative-zero": {"zero": {"N": "-0"}},
    "negative-zero-set": {"zeros": {"NS": ["-0.0", "1", "2.50"]}},
    "long-number": {"long": {"N": LONG31}},
    "long-number-38": {"long": {"N": LONG38}},
    "long-set": {"longs": {"NS": [LONG31, "99999999999999999999999999999", "3"]}},
    "nested": {"doc": {"M": {"a": {"L": [{"N": "-0"}, {"NS": [LONG31]}]}, "b": {"S": "x"}}}},
    # Python's own orders (bytes): the same as ours, so these verify at once.
    "python-orders": {
        "binSet": {"BS": [b"\x01", b"\x80\x00", b"\xff"]},
        "strSet": {"SS": ["a", "\ue000x", "\U0001F600"]},
    },
    # Both kinds in one item: Python's numbers with Python's orders.
    "numbers-and-orders": {
        "zero": {"N": "-0"},
        "binSet": {"BS": [b"\x01", b"\x80"]},
        "\U0001F512name": {"S": "supplementary"},
        "\ue001name": {"S": "private use"},
    },
    "encrypted-long": {"secretLong": {"N": LONG31}},
    # Nothing encrypted: the HMAC signature is a function of the values alone,
    # so a writer in Python's form must reproduce it byte for byte.
    "sign-only": {"zero": {"N": "-0"}, "long": {"N": LONG31}, "longs": {"NS": [LONG38, "-0"]}, "secret": None},
}


def ddb_json(item):
    """DynamoDB JSON: binary values as base64."""
    def value(v):
        (tag, x), = v.items()
        if tag == "B":
            return {"B": base64.b64encode(bytes(x)).decode()}
        if tag == "BS":
            return {"BS": [base64.b64encode(bytes(m)).decode() for m in x]}
        if tag == "L":
            return {"L": [value(e) for e in x]}
        if tag == "M":
            return {"M": ddb_json(x)}
        return v
    return {k: value(v) for k, v in item.items()}


out = []
for i, (name, attrs) in enumerate(cases.items()):
    item = {"hashKey": {"N": str(i)}, "rangeKey": {"N": "1"}, "secret": {"S": "s\u00e9cret"}, "views": {"N": "3"}}
    item.update(attrs)
    item = {k: v for k, v in item.items() if v is not None}
    ctx = EncryptionContext(table_name="TableName", partition_key_name="hashKey", sort_key_name="rangeKey")
    cfg = CryptoConfig(materials_provider=provider, encryption_context=ctx, attribute_actions=actions)
    ct = encrypt_dynamodb_item(item, cfg)
    out.append({"name": name, "plaintext": ddb_json(item), "item": ddb_json(ct)})
json.dump({"items": out}, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
