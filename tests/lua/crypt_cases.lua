-- Test cases shared by the skynet.crypt service test (crypt_vectors.lua) and the
-- stand-alone client.crypt test (client_crypt.lua).  Published vectors come from
-- FIPS 180 (SHA-1), RFC 2202 (HMAC-SHA1), FIPS 81 / Stinson / NIST SP 800-17 (DES) and
-- RFC 4648 (base64); the rest are outputs of skynet v1.8.0's own module for the same
-- inputs.  run(crypt) returns the list of failed checks (empty when all pass).

local function unhex(h)
	return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

local function tohex(s)
	return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local FUNCS = {
	"hashkey", "randomkey", "desencode", "desdecode", "hexencode", "hexdecode",
	"hmac64", "hmac64_md5", "dhexchange", "dhsecret", "base64encode", "base64decode",
	"sha1", "hmac_sha1", "hmac_hash", "xor_str",
}

local SHA1 = {
	{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		"84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	{ string.rep("a", 1000000), "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
}

local HMAC_SHA1 = {	-- RFC 2202 section 3, test cases 1 to 7
	{ string.rep("\x0b", 20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ string.rep("\xaa", 20), string.rep("\xdd", 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
	{ unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), string.rep("\xcd", 50),
		"4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
	{ string.rep("\x0c", 20), "Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
	{ string.rep("\xaa", 80), "Test Using Larger Than Block-Size Key - Hash Key First",
		"aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ string.rep("\xaa", 80), "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
		"e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
}

-- Raw single-block DES (key, plaintext, ciphertext), all hex.  desencode always adds a
-- padding block, so the raw block is the first 8 bytes of its output.
local DES_BLOCK = {
	{ "133457799bbcdff1", "0123456789abcdef", "85e813540f0ab405" },	-- Stinson's worked example
	{ "0e329232ea6d0d73", "8787878787878787", "0000000000000000" },
	{ "0101010101010101", "8000000000000000", "95f8a5e5dd31d900" },	-- SP 800-17 table A.1
}

-- skynet v1.8.0's outputs, all hex.
local K1, K2 = unhex("0123456789abcdef"), "skynet!!"
local HASH_TEXTS = { "", "a", "skynet", "The quick brown fox jumps over the lazy dog" }
local HASHKEY = { "05150000a7c6674e", "06b602004d00f5ae", "43bef41bac48ce7f", "de38cc3438feefdf" }
local HMAC_HASH = { "bec4e4ca99a6d2b6", "1e18422ea0b4a226", "054a6c6ed5ac7949", "c237167804788bc4" }
local DES_TEXT = "0123456789abcdefghij"
local DES_ISO = {	-- desencode("12345678", DES_TEXT:sub(1, n)) by n
	[0] = "8d3d438a718b4510", [1] = "d79753ef7183875a", [7] = "da4ca86016b98dda",
	[8] = "8bb47a0cf0a9626d8d3d438a718b4510", [9] = "8bb47a0cf0a9626d66091138d47ae0e5",
	[16] = "8bb47a0cf0a9626d29d174037a8bf6b68d3d438a718b4510",
}
local DES_PKCS7 = {
	[0] = "feb959b7d4642fcb", [1] = "0ca1f353faaee02a", [7] = "d030098bda76e923",
	[8] = "8bb47a0cf0a9626dfeb959b7d4642fcb", [9] = "8bb47a0cf0a9626d3ccb9f889c4ce9c0",
	[16] = "8bb47a0cf0a9626d29d174037a8bf6b6feb959b7d4642fcb",
}

local function run(crypt)
	local failed = {}
	local function check(cond, what)
		if not cond then
			failed[#failed + 1] = what
		end
	end
	local function same(got, want, what)
		check(got == want, string.format("%s: got %q, want %q", what, tostring(got), tostring(want)))
	end
	-- f(...) must raise an error whose message ends with msg.
	local function fails(msg, what, f, ...)
		local ok, err = pcall(f, ...)
		check(not ok and type(err) == "string" and err:sub(-#msg) == msg,
			string.format("%s: want error %q, got %s %s", what, msg, tostring(ok), tostring(err)))
	end

	for _, name in ipairs(FUNCS) do
		check(type(crypt[name]) == "function", "crypt." .. name .. " is missing")
	end
	if #failed > 0 then
		return failed
	end
	same(crypt.padding and crypt.padding.iso7816_4, 0, "padding.iso7816_4")
	same(crypt.padding and crypt.padding.pkcs7, 1, "padding.pkcs7")

	-- SHA-1 and HMAC-SHA1
	for i, v in ipairs(SHA1) do
		same(tohex(crypt.sha1(v[1])), v[2], "sha1 vector " .. i)
	end
	for i, v in ipairs(HMAC_SHA1) do
		same(tohex(crypt.hmac_sha1(v[1], v[2])), v[3], "hmac_sha1 RFC 2202 case " .. i)
	end

	-- DES: published blocks, FIPS 81's ECB example, upstream's padding
	for i, v in ipairs(DES_BLOCK) do
		local c = crypt.desencode(unhex(v[1]), unhex(v[2]))
		same(#c, 16, "DES vector " .. i .. " length")
		same(tohex(c:sub(1, 8)), v[3], "DES vector " .. i)
		same(crypt.desdecode(unhex(v[1]), c), unhex(v[2]), "DES vector " .. i .. " decodes")
	end
	local fips81 = crypt.desencode(unhex("0123456789abcdef"), "Now is the time for all ")
	same(tohex(fips81:sub(1, 24)), "3fa40e8a984d48156a271787ab8883f9893d51ec4b563b53", "FIPS 81 ECB")
	for n, want in pairs(DES_ISO) do
		local text = DES_TEXT:sub(1, n)
		same(tohex(crypt.desencode("12345678", text)), want, "desencode iso7816_4 length " .. n)
		same(tohex(crypt.desencode("12345678", text, crypt.padding.iso7816_4)), want,
			"desencode explicit iso7816_4 length " .. n)
		same(tohex(crypt.desencode("12345678", text, crypt.padding.pkcs7)), DES_PKCS7[n],
			"desencode pkcs7 length " .. n)
		same(crypt.desdecode("12345678", unhex(want)), text, "desdecode iso7816_4 length " .. n)
		same(crypt.desdecode("12345678", unhex(DES_PKCS7[n]), crypt.padding.pkcs7), text,
			"desdecode pkcs7 length " .. n)
	end
	local long = string.rep("\0\1\2\3\128\255 skynet ", 300)
	for n = 0, 40 do
		local text = long:sub(1, n)
		for _, mode in pairs(crypt.padding) do
			local c = crypt.desencode(K2, text, mode)
			same(#c, n - n % 8 + 8, "desencode length " .. n)
			same(crypt.desdecode(K2, c, mode), text, "des round trip length " .. n .. " mode " .. mode)
		end
	end
	same(crypt.desdecode(K1, crypt.desencode(K1, long)), long, "des round trip of " .. #long .. " bytes")

	-- upstream's hashes, MACs and DH values
	for i, text in ipairs(HASH_TEXTS) do
		same(tohex(crypt.hashkey(text)), HASHKEY[i], "hashkey " .. i)
		same(tohex(crypt.hmac_hash(K1, text)), HMAC_HASH[i], "hmac_hash " .. i)
	end
	same(tohex(crypt.hmac64(K1, K2)), "1b8abd2f6c7bf943", "hmac64 a")
	same(tohex(crypt.hmac64(K2, K1)), "4a82b8218f53a975", "hmac64 b")
	same(tohex(crypt.hmac64_md5(K1, K2)), "0b9b88bc0bfd9b82", "hmac64_md5 a")
	same(tohex(crypt.hmac64_md5(K2, K1)), "7380feea81faf740", "hmac64_md5 b")
	same(tohex(crypt.dhexchange("\1\0\0\0\0\0\0\0")), "0500000000000000", "dhexchange 1")
	same(tohex(crypt.dhexchange(K1)), "3dcb75f50fd02972", "dhexchange K1")
	same(tohex(crypt.dhexchange(K2)), "d2ad5fa79582357c", "dhexchange K2")
	same(tohex(crypt.dhexchange(unhex("ffffffffffffffff"))), "4e2ea6baf651b377", "dhexchange max")
	same(tohex(crypt.dhsecret(crypt.dhexchange(K1), K2)), "eb46b18faccdbb20", "dhsecret K1 K2")
	same(tohex(crypt.dhsecret(crypt.dhexchange(K2), K1)), "eb46b18faccdbb20", "dhsecret K2 K1")
	same(tohex(crypt.dhsecret(unhex("c5ffffffffffffff"), "\1\0\0\0\0\0\0\0")), "c5ffffffffffffff",
		"dhsecret p^1")
	same(tohex(crypt.dhsecret(unhex("ffffffffffffffff"), "\1\0\0\0\0\0\0\0")), "3a00000000000000",
		"dhsecret reduces a base above p")
	same(tohex(crypt.dhsecret(unhex("ffffffffffffffff"), "\2\0\0\0\0\0\0\0")), "240d000000000000",
		"dhsecret (2^64-1)^2")

	-- random keys: shape, and DH agreement between two of them
	local seen = {}
	for i = 1, 100 do
		local k = crypt.randomkey()
		same(#k, 8, "randomkey length")
		check(not seen[k], "randomkey repeated itself")
		seen[k] = true
		same(#crypt.dhexchange(k), 8, "dhexchange of a random key")
	end
	for i = 1, 20 do
		local a, b = crypt.randomkey(), crypt.randomkey()
		local sa = crypt.dhsecret(crypt.dhexchange(b), a)
		local sb = crypt.dhsecret(crypt.dhexchange(a), b)
		check(sa == sb, "dhsecret agreement " .. i .. ": " .. tohex(sa) .. " vs " .. tohex(sb))
	end

	-- base64 (RFC 4648 section 10) and upstream's lenient decoding
	local B64 = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } }
	for _, v in ipairs(B64) do
		same(crypt.base64encode(v[1]), v[2], "base64encode " .. v[1])
		same(crypt.base64decode(v[2]), v[1], "base64decode " .. v[2])
	end
	same(crypt.base64encode("\0\255\254\251\239"), "AP/+++8=", "base64encode uses + and /")
	same(crypt.base64decode("AP/+++8="), "\0\255\254\251\239", "base64decode of + and /")
	same(crypt.base64decode("Zm9vYg"), "foob", "base64decode with missing padding")
	same(crypt.base64decode("Zm9v\r\nYmFy"), "foobar", "base64decode skips line breaks")
	same(crypt.base64decode("Zg==Zg=="), "ff", "base64decode of two concatenated encodings")
	same(crypt.base64decode(crypt.base64encode(long)), long, "base64 round trip")
	fails("Invalid base64 text", "base64 bits under the padding", crypt.base64decode, "Zh==")
	fails("Invalid base64 text", "base64 lone sextet", crypt.base64decode, "Z")
	fails("Invalid base64 text", "base64 three pads", crypt.base64decode, "Z===")
	fails("Invalid base64 text", "base64 trailing newline after a group", crypt.base64decode, "Zg==\n")

	-- hex
	same(crypt.hexencode("\0\1\123\255"), "00017bff", "hexencode")
	same(crypt.hexdecode("00017bff"), "\0\1\123\255", "hexdecode")
	same(crypt.hexdecode(crypt.hexencode(long)), long, "hex round trip")
	same(crypt.hexdecode(""), "", "hexdecode of nothing")
	fails("Invalid hex text size 3", "odd hex", crypt.hexdecode, "abc")
	fails("Invalid hex text", "hex with non-digits", crypt.hexdecode, "zz")
	fails("Invalid hex text", "uppercase hex (upstream takes lowercase only)", crypt.hexdecode, "AB")

	-- xor_str
	same(tohex(crypt.xor_str("hello world", "key")), "030015070a591c0a0b0701", "xor_str")
	same(crypt.xor_str(crypt.xor_str(long, K1), K1), long, "xor_str twice")
	same(crypt.xor_str("", "k"), "", "xor_str of nothing")

	-- argument errors, with upstream's messages
	fails("Invalid key size 7, need 8 bytes", "short DES key", crypt.desencode, "1234567", "x")
	fails("Invalid key size 9, need 8 bytes", "long DES key", crypt.desdecode, "123456789", "12345678")
	fails("Invalid padding mode 2", "bad encode padding", crypt.desencode, K1, "x", 2)
	fails("Invalid padding mode -1", "bad decode padding", crypt.desdecode, K1, crypt.desencode(K1, "x"), -1)
	fails("Invalid des crypt text length 7", "short ciphertext", crypt.desdecode, K1, "1234567")
	fails("Invalid des crypt text length 0", "empty ciphertext", crypt.desdecode, K1, "")
	fails("Invalid des crypt text", "pkcs7 ciphertext read as iso7816_4", crypt.desdecode, K1,
		crypt.desencode(K1, "", crypt.padding.pkcs7))
	fails("Invalid des crypt text", "wrong key", crypt.desdecode, K2, crypt.desencode(K1, "abc"))
	fails("Invalid uint64 x", "hmac64 short x", crypt.hmac64, "1234567", K1)
	fails("Invalid uint64 y", "hmac64 long y", crypt.hmac64, K1, "123456789")
	fails("Invalid uint64 x", "hmac64_md5 short x", crypt.hmac64_md5, "", K1)
	fails("Invalid uint64 key", "hmac_hash key", crypt.hmac_hash, "k", "text")
	fails("Invalid dh uint64 key", "dhexchange short key", crypt.dhexchange, "1234")
	fails("Can't be 0", "dhexchange 0", crypt.dhexchange, string.rep("\0", 8))
	fails("Can't be 0", "dhsecret 0", crypt.dhsecret, K1, string.rep("\0", 8))
	fails("Invalid uint64 y", "dhsecret short key", crypt.dhsecret, K1, "1")
	fails("Can't xor empty string", "xor_str empty key", crypt.xor_str, "abc", "")
	check(not pcall(crypt.sha1), "sha1 without an argument raises")
	check(not pcall(crypt.hmac_sha1, "key"), "hmac_sha1 without text raises")
	check(not pcall(crypt.base64encode, {}), "base64encode of a table raises")
	check(not pcall(crypt.desencode, K1, "x", "pkcs7"), "a padding name instead of its number raises")
	return failed
end

return { run = run, tohex = tohex, unhex = unhex }
