package keystore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// kmsFailure classifies a KMS error: a ciphertext KMS refuses under the
// context (or that belongs to another key) is an authentication failure of
// the item; the SDK error stays reachable.
func kmsFailure(op string, err error) error {
	var bad *types.InvalidCiphertextException
	var other *types.IncorrectKeyException
	if errors.As(err, &bad) || errors.As(err, &other) {
		return fmt.Errorf("%w: KMS %s: %w", ErrAuthentication, op, err)
	}
	return fmt.Errorf("KMS %s: %w", op, err)
}

func validCiphertext(b []byte) bool { return len(b) > 0 && len(b) <= maxCiphertext }

// generateKey returns a new 32-byte key wrapped under the configured KMS key
// with ec (GenerateDataKeyWithoutPlaintext: the plaintext never reaches us).
func (s *Store) generateKey(ctx context.Context, ec map[string]string) ([]byte, error) {
	out, err := s.kms.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{
		KeyId:             aws.String(s.opts.KMS.arn),
		NumberOfBytes:     aws.Int32(32),
		EncryptionContext: ec,
		GrantTokens:       s.opts.GrantTokens,
	})
	if err != nil {
		return nil, kmsFailure("GenerateDataKeyWithoutPlaintext", err)
	}
	if aws.ToString(out.KeyId) == "" || !validCiphertext(out.CiphertextBlob) {
		return nil, fmt.Errorf("%w: GenerateDataKeyWithoutPlaintext without key id or ciphertext", ErrKMSResponse)
	}
	return out.CiphertextBlob, nil
}

// reEncrypt moves a wrapped key from context src to context dst under the
// configured KMS key; KMS checks that blob decrypts under src.
func (s *Store) reEncrypt(ctx context.Context, blob []byte, src, dst map[string]string) ([]byte, error) {
	out, err := s.kms.ReEncrypt(ctx, &kms.ReEncryptInput{
		CiphertextBlob:               blob,
		SourceKeyId:                  aws.String(s.opts.KMS.arn),
		SourceEncryptionContext:      src,
		DestinationKeyId:             aws.String(s.opts.KMS.arn),
		DestinationEncryptionContext: dst,
		GrantTokens:                  s.opts.GrantTokens,
	})
	if err != nil {
		return nil, kmsFailure("ReEncrypt", err)
	}
	if aws.ToString(out.KeyId) == "" || !validCiphertext(out.CiphertextBlob) {
		return nil, fmt.Errorf("%w: ReEncrypt without key id or ciphertext", ErrKMSResponse)
	}
	return out.CiphertextBlob, nil
}

// decrypt unwraps an item's enc under the context its attributes make. The
// caller owns (and clears) the 32-byte result.
func (s *Store) decrypt(ctx context.Context, ec map[string]string, enc []byte) ([]byte, error) {
	out, err := s.kms.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    enc,
		EncryptionContext: ec,
		KeyId:             aws.String(s.opts.KMS.decryptKeyID(ec[AttrKMSARN])),
		GrantTokens:       s.opts.GrantTokens,
	})
	if err != nil {
		return nil, kmsFailure("Decrypt", err)
	}
	if len(out.Plaintext) != 32 {
		clear(out.Plaintext)
		return nil, fmt.Errorf("%w: Decrypt returned a key of %d bytes, want 32", ErrKMSResponse, len(out.Plaintext))
	}
	return out.Plaintext, nil
}
