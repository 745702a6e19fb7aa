package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	p11 "github.com/miekg/pkcs11"
)

// Config locates the token.
type Config struct {
	// Module is the path of the PKCS#11 library: for example
	// /usr/lib/softhsm/libsofthsm2.so, or AWS CloudHSM's
	// /opt/cloudhsm/lib/libcloudhsm_pkcs11.so.
	Module string
	// TokenLabel selects the token by its label; "" takes the first slot
	// with a token (CloudHSM has one).
	TokenLabel string
	// PIN logs in as the normal user (CKU_USER). For CloudHSM it is
	// "<crypto user name>:<password>".
	PIN string
	// MaxSessions bounds the sessions the pool opens; 0 is 16. Callers
	// beyond it wait for a session (or for their context).
	MaxSessions int
}

// String, GoString, Format, LogValue and MarshalJSON never show the PIN.
func (c Config) String() string {
	return fmt.Sprintf("pkcs11.Config{Module: %q, TokenLabel: %q, PIN: REDACTED, MaxSessions: %d}", c.Module, c.TokenLabel, c.MaxSessions)
}
func (c Config) GoString() string              { return c.String() }
func (c Config) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }
func (c Config) LogValue() slog.Value          { return slog.StringValue(c.String()) }
func (c Config) MarshalJSON() ([]byte, error)  { return []byte(fmt.Sprintf("%q", c.String())), nil }

// Pool is a PKCS#11 library, a token logged in to, and a pool of its
// sessions. It is safe for concurrent use. Open one Pool per library per
// process: the library is initialised by Open and finalised by Close.
type Pool struct {
	ctx    *p11.Ctx
	slot   uint
	label  string
	anchor p11.SessionHandle // holds the login; never used for operations
	max    int
	idle   chan p11.SessionHandle
	mu     sync.Mutex // guards open and closed
	open   int
	freed  chan struct{} // a slot for a new session was freed
	closed bool
}

// String names the slot and token; the pool does not keep the PIN.
func (p *Pool) String() string {
	return fmt.Sprintf("pkcs11.Pool{slot: %d, token: %q}", p.slot, p.label)
}

// ErrClosed is returned by a Pool after Close.
var ErrClosed = errors.New("pkcs11: pool closed")

// Open loads cfg.Module, finds the token and logs in.
func Open(cfg Config) (*Pool, error) {
	if cfg.Module == "" {
		return nil, errors.New("pkcs11: no PKCS#11 library (Config.Module)")
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 16
	}
	c := p11.New(cfg.Module)
	if c == nil {
		return nil, fmt.Errorf("pkcs11: cannot load the PKCS#11 library %s", cfg.Module)
	}
	if err := c.Initialize(); err != nil && !isCode(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		c.Destroy()
		return nil, fmt.Errorf("pkcs11: C_Initialize: %w", err)
	}
	p := &Pool{ctx: c, label: cfg.TokenLabel, max: cfg.MaxSessions,
		idle: make(chan p11.SessionHandle, cfg.MaxSessions), freed: make(chan struct{}, 1)}
	fail := func(err error) (*Pool, error) {
		p.Close()
		return nil, err
	}
	slots, err := c.GetSlotList(true)
	if err != nil {
		return fail(fmt.Errorf("pkcs11: C_GetSlotList: %w", err))
	}
	found := false
	for _, s := range slots {
		ti, err := c.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if cfg.TokenLabel == "" || strings.TrimRight(ti.Label, " \x00") == cfg.TokenLabel {
			p.slot, p.label, found = s, strings.TrimRight(ti.Label, " \x00"), true
			break
		}
	}
	if !found {
		return fail(fmt.Errorf("pkcs11: no token labelled %q in %s", cfg.TokenLabel, cfg.Module))
	}
	// A login is the application's, for all its sessions, until its last
	// session closes: the anchor session, never used for operations, stays
	// open until Close, so sessions the pool drops do not log it out.
	p.anchor, err = c.OpenSession(p.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return fail(fmt.Errorf("pkcs11: C_OpenSession: %w", err))
	}
	if err := c.Login(p.anchor, p11.CKU_USER, cfg.PIN); err != nil && !isCode(err, p11.CKR_USER_ALREADY_LOGGED_IN) {
		return fail(fmt.Errorf("pkcs11: C_Login: %w", err))
	}
	return p, nil
}

// Close closes the sessions and finalises the library. Calls in flight
// must have returned.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.ctx.CloseAllSessions(p.slot)
	err := p.ctx.Finalize()
	p.ctx.Destroy()
	return err
}

// get returns an idle session, opens one while fewer than max are open,
// or waits for one.
func (p *Pool) get(ctx context.Context) (p11.SessionHandle, error) {
	for {
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return 0, ErrClosed
		}
		select {
		case sh := <-p.idle:
			return sh, nil
		default:
		}
		p.mu.Lock()
		closed, room := p.closed, p.open < p.max
		if room && !closed {
			p.open++ // reserved under the lock: never more than max
		}
		p.mu.Unlock()
		if closed {
			return 0, ErrClosed
		}
		if room {
			sh, err := p.ctx.OpenSession(p.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
			if err != nil {
				p.release()
				return 0, fmt.Errorf("pkcs11: C_OpenSession: %w", err)
			}
			return sh, nil
		}
		select {
		case sh := <-p.idle:
			return sh, nil
		case <-p.freed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// put returns sh to the pool after a call that returned err. After any
// error of the token the session is closed instead, freeing its place: an
// operation a failure left active, or a session the token lost, never
// reaches the next caller.
func (p *Pool) put(sh p11.SessionHandle, err error) {
	var code p11.Error
	if errors.As(err, &code) {
		p.ctx.CloseSession(sh)
		p.release()
		return
	}
	p.idle <- sh // never blocks: at most max sessions exist
}

// release gives back the place of a session that was closed or never
// opened, waking a caller waiting in get.
func (p *Pool) release() {
	p.mu.Lock()
	p.open--
	p.mu.Unlock()
	select {
	case p.freed <- struct{}{}:
	default:
	}
}

// do runs fn on a session of the pool.
func (p *Pool) do(ctx context.Context, fn func(c *p11.Ctx, sh p11.SessionHandle) error) error {
	sh, err := p.get(ctx)
	if err != nil {
		return err
	}
	err = fn(p.ctx, sh)
	p.put(sh, err)
	return err
}

func isCode(err error, code uint) bool {
	var e p11.Error
	return errors.As(err, &e) && uint(e) == code
}

// sign runs one C_SignInit and C_Sign with mechanism mech and key on
// data, in a session of the pool.
func (p *Pool) sign(ctx context.Context, mech uint, key p11.ObjectHandle, data []byte) ([]byte, error) {
	var out []byte
	err := p.do(ctx, func(c *p11.Ctx, sh p11.SessionHandle) error {
		if err := c.SignInit(sh, []*p11.Mechanism{p11.NewMechanism(mech, nil)}, key); err != nil {
			return err
		}
		var err error
		out, err = c.Sign(sh, data)
		return err
	})
	return out, err
}

// findKey returns the handle of the one object of class with label. Token
// objects keep their handle across sessions.
func (p *Pool) findKey(ctx context.Context, class uint, label string) (p11.ObjectHandle, error) {
	var h p11.ObjectHandle
	err := p.do(ctx, func(c *p11.Ctx, sh p11.SessionHandle) error {
		if err := c.FindObjectsInit(sh, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, class), p11.NewAttribute(p11.CKA_LABEL, label),
		}); err != nil {
			return err
		}
		objs, _, err := c.FindObjects(sh, 2)
		if ferr := c.FindObjectsFinal(sh); err == nil {
			err = ferr
		}
		if err != nil {
			return err
		}
		if len(objs) != 1 {
			return fmt.Errorf("pkcs11: %d keys labelled %q in the token, want 1", len(objs), label)
		}
		h = objs[0]
		return nil
	})
	return h, err
}

// decryptError is an error of the decryption or unwrapping call itself
// (C_Decrypt, C_UnwrapKey), once the operation was set up.
type decryptError struct{ err error }

func (e decryptError) Error() string { return e.err.Error() }
func (e decryptError) Unwrap() error { return e.err }

// authFailure reports whether err is a decryption that did not
// authenticate. Tokens disagree on the code of a wrong tag or key-wrap
// check: CKR_ENCRYPTED_DATA_INVALID, CKR_WRAPPED_KEY_INVALID and their
// length-range codes by the standard, CKR_FUNCTION_FAILED on some HSMs,
// CKR_GENERAL_ERROR on SoftHSM2. These codes of the decryption call, after
// its setup succeeded, are an authentication failure.
func authFailure(err error) bool {
	var d decryptError
	if !errors.As(err, &d) {
		return false
	}
	for _, code := range []uint{p11.CKR_ENCRYPTED_DATA_INVALID, p11.CKR_ENCRYPTED_DATA_LEN_RANGE,
		p11.CKR_WRAPPED_KEY_INVALID, p11.CKR_WRAPPED_KEY_LEN_RANGE, p11.CKR_FUNCTION_FAILED, p11.CKR_GENERAL_ERROR} {
		if isCode(err, code) {
			return true
		}
	}
	return false
}
