package mapenc

import (
	"errors"
	"reflect"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

func TestParseTag(t *testing.T) {
	for in, want := range map[string]Tag{
		"encrypt":           {Action: actions.EncryptAndSign, HasAction: true},
		"sign, partition":   {Action: actions.SignOnly, HasAction: true, Role: RolePartition},
		"sort":              {Role: RoleSort},
		"nothing":           {Action: actions.DoNothing, HasAction: true},
		"partition,encrypt": {Action: actions.EncryptAndSign, HasAction: true, Role: RolePartition},
	} {
		got, err := ParseTag(in)
		if err != nil || got != want {
			t.Errorf("ParseTag(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "encrypted", "sign,encrypt", "partition,sort"} {
		if _, err := ParseTag(in); !errors.Is(err, ErrInvalidTag) {
			t.Errorf("ParseTag(%q): %v, want ErrInvalidTag", in, err)
		}
	}
}

func TestStructAttributes(t *testing.T) {
	type Audit struct {
		By string `dynamodbav:"by" itemcrypto:"sign"`
	}
	type rec struct {
		ID  string `dynamodbav:"id" itemcrypto:"partition"`
		SSN string `itemcrypto:"encrypt"`
		Web string `json:"web" dynamodbav:"w"`
		Audit
	}
	attrs, err := StructAttributes(reflect.TypeFor[*rec]())
	if err != nil {
		t.Fatal(err)
	}
	want := []StructAttribute{
		{Name: "id", Field: "ID", Tagged: true, Tag: Tag{Role: RolePartition}},
		{Name: "SSN", Field: "SSN", Tagged: true, Tag: Tag{Action: actions.EncryptAndSign, HasAction: true}},
		{Name: "w", Field: "Web"},
		{Name: "by", Field: "Audit.By", Tagged: true, Tag: Tag{Action: actions.SignOnly, HasAction: true}},
	}
	if !reflect.DeepEqual(attrs, want) {
		t.Fatalf("StructAttributes = %+v\nwant %+v", attrs, want)
	}
	attrs, err = StructAttributes(reflect.TypeFor[rec](), func(o *Options) { o.TagKey = "json" })
	if err != nil || attrs[2].Name != "web" {
		t.Fatalf("TagKey json: %+v, %v", attrs, err)
	}
	type bad struct {
		x string `itemcrypto:"encrypt"`
	}
	_ = bad{}.x
	if _, err := StructAttributes(reflect.TypeFor[bad]()); !errors.Is(err, ErrInvalidTag) {
		t.Fatalf("a tag on an unexported field: %v", err)
	}
	if _, err := StructAttributes(reflect.TypeFor[int]()); err == nil {
		t.Fatal("int accepted")
	}
	if !DecodesFieldByField(reflect.TypeFor[*rec]()) || DecodesFieldByField(timeType) {
		t.Fatal("DecodesFieldByField")
	}
}
