# Writes python-numbers.json: number literals and what the Python DDBEC
# (aws-dynamodb-encryption-python 3.3.0, commit 2ae188138cd3) serializes them
# to, or null where it raises. Run with that repository's src/ directory:
#   PYREF_SRC=.../aws-dynamodb-encryption-python/src python3 python-numbers.py
# (needs the cryptography, boto3 and attrs packages).
import os, random, sys, json
sys.path.insert(0, os.environ['PYREF_SRC'])
from dynamodb_encryption_sdk.internal.formatting.serialize.attribute import serialize_attribute
random.seed(7)
out=[]
def rnd():
    k=random.choice(['long','short','zero','tie','nines'])
    sign=random.choice(['','-','+'])
    if k=='zero':
        return sign+random.choice(['0','0.0','0E+5','00.000','0e-3'])
    if k=='nines':
        n=random.randint(27,38); s='9'*n
    elif k=='tie':
        n=random.randint(28,37); s=''.join(random.choice('0123456789') for _ in range(n))+'5'+'0'*random.randint(0,2)
    elif k=='long':
        n=random.randint(25,38); s=''.join(random.choice('0123456789') for _ in range(n))
    else:
        n=random.randint(1,10); s=''.join(random.choice('0123456789') for _ in range(n))
    p=random.randint(0,len(s))
    if random.random()<0.5: s=s[:p]+'.'+s[p:]
    if s=='.': s='0'
    if random.random()<0.3: s+= 'E'+str(random.randint(-20,20))
    return sign+s
for i in range(800):
    s=rnd()
    try:
        b=serialize_attribute({'N':s})
        out.append([s,b[6:].decode()])
    except Exception as e:
        out.append([s,None])
with open('python-numbers.json', 'w') as f:
    f.write('[\n' + ',\n'.join(json.dumps(x) for x in out) + '\n]\n')
