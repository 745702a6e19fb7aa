package mapenc

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
)

// Types whose attribute names exercise attributevalue's naming rules.

type Inner struct {
	X string
	Y string `dynamodbav:"why"`
}

type Deeper struct {
	Inner
	Z string
}

type Dup1 struct{ Same, Only1 string }
type Dup2 struct{ Same, Only2 string }

type TaggedDup1 struct {
	Same string `dynamodbav:"same"`
}
type TaggedDup2 struct{ Same string }

type unexportedEmbed struct {
	Visible string `dynamodbav:"visible"`
}

type PtrEmbed struct {
	P string `dynamodbav:"p"`
}

type MyString string

type naming struct {
	Plain   string
	Renamed string `dynamodbav:"renamed,omitempty"`
	Skipped string `dynamodbav:"-"`
	OptOnly string `dynamodbav:",omitempty"`
	Colon   string `dynamodbav:":attribute3"`
	Nested  Inner  `dynamodbav:"nested"`
	Deeper         // promotes X, why, Z (X and why at depth 2)
	X       string // shadows Deeper.Inner.X
	Dup1           // Same conflicts with Dup2.Same: dropped
	Dup2
	TaggedDup1            // "same" (tagged) ...
	TaggedDup2            // ... and "Same": different names, both kept
	unexportedEmbed       // promotes visible
	*PtrEmbed             // promotes p
	MyString              // a non-struct embedded type: attribute "MyString"
	Named           Inner `dynamodbav:"named_embed"`
	Time            time.Time
	//lint:ignore U1000 an unexported field, which the encoder must skip
	hidden string
}

type jsonNamed struct {
	A string `json:"a_json"`
	B string `json:"b_json" dynamodbav:"b_av"`
	C string `json:"-"`
	D string `dynamodbav:"d_av"`
}

// fill sets every settable field of v to a non-zero value, so that
// attributevalue writes every attribute it knows.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() && v.CanSet() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if !v.IsNil() {
			fill(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1, 0)))
			return
		}
		for i := range v.NumField() {
			f := v.Field(i)
			if f.CanSet() {
				fill(f)
			} else if v.Type().Field(i).Anonymous && f.Kind() == reflect.Struct {
				// An unexported embedded struct: its exported fields are settable.
				fill(f)
			}
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString("x")
		}
	case reflect.Int, reflect.Int64:
		if v.CanSet() {
			v.SetInt(1)
		}
	case reflect.Float64:
		if v.CanSet() {
			v.SetFloat(1)
		}
	case reflect.Uint8:
		if v.CanSet() {
			v.SetUint(1)
		}
	case reflect.Slice:
		if v.CanSet() {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			fill(v.Index(0))
		}
	}
}

func TestFieldNamesMatchAttributevalue(t *testing.T) {
	for _, tc := range []struct {
		v      any
		tagKey string
	}{
		{naming{}, ""},
		{Customer{}, ""},
		{jsonNamed{}, ""},
		{jsonNamed{}, "json"},
		{Deeper{}, ""},
	} {
		typ := reflect.TypeOf(tc.v)
		t.Run(typ.Name()+"/"+tc.tagKey, func(t *testing.T) {
			p := reflect.New(typ)
			fill(p.Elem())
			item, err := attributevalue.MarshalMapWithOptions(p.Interface(), func(o *attributevalue.EncoderOptions) {
				if tc.tagKey != "" {
					o.TagKey = tc.tagKey
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for k := range item {
				want = append(want, k)
			}
			slices.Sort(want)
			key := tc.tagKey
			if key == "" {
				key = defaultTagKey
			}
			fields, _, _ := structFields(typ, key)
			var got []string
			for _, f := range fields {
				got = append(got, f.name)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("attribute names:\n got %q\nwant %q (attributevalue)", got, want)
			}
		})
	}
}

func TestFieldGoNames(t *testing.T) {
	fields, stray, _ := structFields(reflect.TypeFor[naming](), defaultTagKey)
	if len(stray) != 0 {
		t.Fatalf("stray tags: %v", stray)
	}
	goNames := map[string]string{}
	for _, f := range fields {
		goNames[f.name] = f.goName
	}
	for attr, want := range map[string]string{
		"X": "X", "why": "Deeper.Inner.Y", "Z": "Deeper.Z", "visible": "unexportedEmbed.Visible",
		"p": "PtrEmbed.P", "renamed": "Renamed", "OptOnly": "OptOnly", "same": "TaggedDup1.Same",
		"Same": "", // Dup1.Same, Dup2.Same and TaggedDup2.Same annihilate
	} {
		if goNames[attr] != want {
			t.Errorf("attribute %q: Go field %q, want %q", attr, goNames[attr], want)
		}
	}
}
