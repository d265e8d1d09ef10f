/* The single-source kernel dialect. A kernel file in shaders/ defines four X-macro lists and then
 * includes this prelude, which places each list where the target language wants it:
 *
 *   KERNEL_BUFFERS(X)    X(slot, type, name, access)  access: readonly | writeonly | coherent
 *                        type: float, int, uint, vec16_t, uvec4_t, or data (below)
 *   KERNEL_PARAMS(X)     X(type, name)                4-byte scalars: uint, int, float
 *   KERNEL_CONSTANTS(X)  X(id, name)                  compile-time ints: specialization constants
 *                                                     (Vulkan) or -D options (OpenCL), in id order
 *   KERNEL_SHARED(X)     X(type, name, count)         work-group shared arrays
 *
 * and writes its body between KERNEL_BEGIN(name) and KERNEL_END, using:
 *   GID(d) LID(d) GROUP_ID(d) LOCAL_SIZE(d) NUM_GROUPS(d)   indices (uint)
 *   BARRIER()             work-group barrier with shared-memory fence
 *   P(name)               a parameter
 *   F32(x) I32(x) U32(x)  conversions (GLSL constructors, C casts)
 *   AS_FLOAT(u) BITS_OF_FLOAT(f)  reinterpreting a 32-bit word as a float and back
 *   MUL_HI(a, b)          the high 32 bits of the 64-bit product of two uints
 *   NEG_INF               negative infinity (GLSL has no infinity literal)
 *   vec4_t VEC4(x, y, z, w)  a 4-float vector and its constructor
 *   vec16_t VEC16_ZERO    16 floats (GLSL: a mat4, column q holding floats 4q..4q+3; OpenCL
 *                         C: float16), usable as a buffer's element type (64-byte stride)
 *   FMA16(acc, s, v)      acc += s * v for a float s and vec16_t v, as fused multiply-adds
 *   V16_QUARTER(v, q)     floats 4q..4q+3 of v as a vec4_t (q a literal 0..3)
 *   VEC16_OF(a, b, c, d)  the vec16_t of four vec4_t, floats 0..3 from a
 *   uvec4_t               4 uints, usable as a buffer's element type (16-byte stride)
 *   Q8_BYTE(u, s)         the int8 in bits s..s+7 of uint u, as a float (8-bit weights)
 *   Q8X4(u)               the four int8 of uint u, lowest byte first, as a vec4_t
 *   SPLAT_OF(T, v)        v as a float or vec4_t T (every component)
 *   LT(x, y) PICK(c, a, b)  c ? a : b per component, c from LT of two floats or two vec4_t
 *                         (a select: the value not picked may be inf or NaN)
 *   readwrite             the access of a buffer a kernel both reads and writes
 *   INLINE                before helper functions
 *
 * A `data` buffer holds a tensor's elements as the step's configuration says (its storage kind,
 * a specialization constant or -D option KIND_name: porta_storage_kind in kernels.h): 32-bit
 * words (f32 or i32), f16 halves, or bf16 (a weight's upper f32 halves; read only). Element
 * indices count elements whatever the kind, so one body serves every kind:
 *   LD(name, i)           element i as a float (f16 and bf16 widened exactly)
 *   ST(name, i, v)        stores float v as element i (an f16 rounded to nearest even)
 *   LDW(name, i)          element i's bits as a uint: the word, or the 16 bits of a half
 *   STW(name, i, bits)    stores bits (of LDW of a buffer of the same kind) as element i
 *   COPY_ELEM(dst, di, src, si)  element si of src as element di of dst: the bits when the kinds
 *                         agree (i32 copies exactly), else converted through a float
 * ST, STW and COPY_ELEM are statements (braced). Vulkan reads a data buffer as 32-bit words
 * and, built with PORTA_STORAGE16 (devices with storageBuffer16BitAccess), writes halves
 * through 16-bit aliases of the same binding; built without, it writes a half into its word
 * with two atomics (and, or), which no other invocation's half can disturb. A third build,
 * PORTA_WORDS_ONLY, fixes every kind at words (plain constants, no 16-bit code at all): the
 * steps of f32 and i32 tensors use it, since a driver may compile the kinds' branches before it
 * drops them (llvmpipe took four times as long). OpenCL reads and
 * writes halves with vload_half / vstore_half_rte, core in OpenCL C 1.2.
 *
 * The build defines PORTA_GLSL for Vulkan (GLSL 450 compiled by glslc); OpenCL C 1.2 otherwise. */

#ifdef PORTA_GLSL

/* names the buffer declarations use */
#define vec16_t mat4
#define uvec4_t uvec4
#define readwrite

#ifdef PORTA_STORAGE16
#extension GL_EXT_shader_16bit_storage : require
#endif

/* access is pasted before anything expands it (readwrite is a macro expanding to nothing):
 * ACCESS_ gives the buffer's qualifier, WORDS_ that of a data buffer's words, which without
 * 16-bit storage are read too where they are written (the atomics), so drop writeonly */
#define BUF_DECL_(slot, type, name, access) \
    BUF_##type(slot, type, name, ACCESS_##access, WORDS_##access)
#define ACCESS_readonly readonly
#define ACCESS_writeonly writeonly
#define ACCESS_coherent coherent
#define ACCESS_readwrite
#if defined(PORTA_STORAGE16) || defined(PORTA_WORDS_ONLY)
#define WORDS_readonly readonly
#define WORDS_writeonly writeonly
#else
#define WORDS_readonly readonly
#define WORDS_writeonly
#endif
#define WORDS_coherent coherent
#define WORDS_readwrite
#define BUF_PLAIN_(slot, type, name, access, words_access) \
    layout(std430, set = 0, binding = slot) access buffer Buffer_##name { type name[]; };
#define BUF_float BUF_PLAIN_
#define BUF_int BUF_PLAIN_
#define BUF_uint BUF_PLAIN_
#define BUF_vec16_t BUF_PLAIN_
#define BUF_uvec4_t BUF_PLAIN_
/* a data buffer: its words, its kind, and with 16-bit storage its halves (as f16 and as bits) */
#ifdef PORTA_STORAGE16
#define BUF_HALVES_(slot, name, access) \
    layout(std430, set = 0, binding = slot) access buffer Halves_##name { float16_t name##_h[]; }; \
    layout(std430, set = 0, binding = slot) access buffer Bits_##name { uint16_t name##_b[]; };
#else
#define BUF_HALVES_(slot, name, access)
#endif
#define BUF_data(slot, type, name, access, words_access) \
    layout(std430, set = 0, binding = slot) words_access buffer Buffer_##name { uint name[]; }; \
    BUF_HALVES_(slot, name, access) \
    KIND_DECL_(slot, name)
#ifdef PORTA_WORDS_ONLY
#define KIND_DECL_(slot, name) const int KIND_##name = 0;
#else
#define KIND_DECL_(slot, name) layout(constant_id = 110 + slot) const int KIND_##name = 0;
#endif
KERNEL_BUFFERS(BUF_DECL_)

#define PARAM_DECL_(type, name) type name;
layout(push_constant) uniform Params { KERNEL_PARAMS(PARAM_DECL_) uint porta_pad_; } params_;
#define P(name) params_.name

#define CONST_DECL_(id, name) layout(constant_id = id) const int name = 1;
KERNEL_CONSTANTS(CONST_DECL_)

#define vec4_t vec4   /* before the shared arrays, which may hold vectors */
#define SHARED_DECL_(type, name, count) shared type name[count];
KERNEL_SHARED(SHARED_DECL_)

layout(local_size_x_id = 100, local_size_y_id = 101, local_size_z_id = 102) in;

#define GID(d) gl_GlobalInvocationID[d]
#define LID(d) gl_LocalInvocationID[d]
#define GROUP_ID(d) gl_WorkGroupID[d]
#define LOCAL_SIZE(d) gl_WorkGroupSize[d]
#define NUM_GROUPS(d) gl_NumWorkGroups[d]
#define BARRIER() barrier()
#define F32(x) float(x)
#define I32(x) int(x)
#define U32(x) uint(x)
#define AS_FLOAT(u) uintBitsToFloat(u)
#define BITS_OF_FLOAT(f) floatBitsToUint(f)
uint porta_mul_hi_(uint a, uint b) { uint hi, lo; umulExtended(a, b, hi, lo); return hi; }
#define MUL_HI(a, b) porta_mul_hi_(a, b)
#define VEC4(x, y, z, w) vec4(x, y, z, w)
#define VEC16_ZERO mat4(0.0)
#define FMA16(acc, s, v) \
    acc[0] = fma(vec4(s), (v)[0], acc[0]); acc[1] = fma(vec4(s), (v)[1], acc[1]); \
    acc[2] = fma(vec4(s), (v)[2], acc[2]); acc[3] = fma(vec4(s), (v)[3], acc[3]);
#define V16_QUARTER(v, q) ((v)[q])
#define VEC16_OF(a, b, c, d) mat4(a, b, c, d)
#define SPLAT_OF(T, v) T(v)
bool porta_lt_(float x, float y) { return x < y; }
bvec4 porta_lt_(vec4 x, vec4 y) { return lessThan(x, y); }
#define LT(x, y) porta_lt_(x, y)
#define PICK(c, a, b) mix(b, a, c)
#define INLINE
float porta_ld_(int kind, uint word, uint i)
{
    if (kind == 1) return unpackHalf2x16(word >> ((i & 1u) * 16u)).x;
    if (kind == 2) return uintBitsToFloat((i & 1u) != 0u ? word & 0xffff0000u : word << 16);
    return uintBitsToFloat(word);
}
#define LD(name, i) porta_ld_(KIND_##name, name[KIND_##name == 0 ? (i) : (i) >> 1u], (i))
#define LDW(name, i) \
    (KIND_##name == 0 ? name[i] : (name[(i) >> 1u] >> (((i) & 1u) * 16u)) & 0xffffu)
#if defined(PORTA_WORDS_ONLY)
#define ST(name, i, v) { name[i] = floatBitsToUint(v); }
#define STW(name, i, bits) { name[i] = (bits); }
#elif defined(PORTA_STORAGE16)
#define ST(name, i, v) { \
    uint st_i_ = (i); float st_v_ = (v); \
    if (KIND_##name == 0) name[st_i_] = floatBitsToUint(st_v_); \
    else name##_h[st_i_] = float16_t(st_v_); }
#define STW(name, i, bits) { \
    uint st_i_ = (i); uint st_w_ = (bits); \
    if (KIND_##name == 0) name[st_i_] = st_w_; \
    else name##_b[st_i_] = uint16_t(st_w_); }
#else
#define ST16_(name, i, half) { \
    uint st_s_ = ((i) & 1u) * 16u; \
    atomicAnd(name[(i) >> 1u], ~(0xffffu << st_s_)); \
    atomicOr(name[(i) >> 1u], ((half) & 0xffffu) << st_s_); }
#define ST(name, i, v) { \
    uint st_i_ = (i); float st_v_ = (v); \
    if (KIND_##name == 0) name[st_i_] = floatBitsToUint(st_v_); \
    else ST16_(name, st_i_, packHalf2x16(vec2(st_v_, 0.0))) }
#define STW(name, i, bits) { \
    uint st_i_ = (i); uint st_w_ = (bits); \
    if (KIND_##name == 0) name[st_i_] = st_w_; \
    else ST16_(name, st_i_, st_w_) }
#endif
#define porta_half_(bits) unpackHalf2x16(bits).x
/* row `row` of 16 halves (kind 2: f16, 3: bf16) of a uvec4 buffer, two uvec4 a row */
#define HALVES16(buf, row, kind) \
    VEC16_OF(HALVES4(kind, buf[2u * (row)].x, buf[2u * (row)].y), \
             HALVES4(kind, buf[2u * (row)].z, buf[2u * (row)].w), \
             HALVES4(kind, buf[2u * (row) + 1u].x, buf[2u * (row) + 1u].y), \
             HALVES4(kind, buf[2u * (row) + 1u].z, buf[2u * (row) + 1u].w))
#define KERNEL_BEGIN(name) void main() {
#define KERNEL_END }

#else /* OpenCL C 1.2 */

#define readonly const
#define writeonly
#define coherent volatile
#define BUF_PARAM_(slot, type, name, access) __global access BUF_TYPE_##type *restrict name,
#define BUF_TYPE_float float
#define BUF_TYPE_int int
#define BUF_TYPE_uint uint
#define BUF_TYPE_vec16_t float16
#define BUF_TYPE_uvec4_t uint4
#define BUF_TYPE_data uint
#define PARAM_ARG_(type, name) const type name,
#define P(name) name
#define LOCAL_DECL_(type, name, count) __local type name[count];

#define GID(d) ((uint)get_global_id(d))
#define LID(d) ((uint)get_local_id(d))
#define GROUP_ID(d) ((uint)get_group_id(d))
#define LOCAL_SIZE(d) ((uint)get_local_size(d))
#define NUM_GROUPS(d) ((uint)get_num_groups(d))
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define F32(x) ((float)(x))
#define I32(x) ((int)(x))
#define U32(x) ((uint)(x))
#define AS_FLOAT(u) as_float(u)
#define BITS_OF_FLOAT(f) as_uint(f)
#define MUL_HI(a, b) mul_hi((uint)(a), (uint)(b))
#define vec4_t float4
#define VEC4(x, y, z, w) ((float4)(x, y, z, w))
#define vec16_t float16
#define uvec4_t uint4
#define VEC16_OF(a, b, c, d) ((float16)(a, b, c, d))
#define VEC16_ZERO ((float16)(0.0f))
#define FMA16(acc, s, v) acc = mad((float16)(s), (v), acc);
#define V16_QUARTER(v, q) V16_Q##q(v)
#define V16_Q0(v) ((v).s0123)
#define V16_Q1(v) ((v).s4567)
#define V16_Q2(v) ((v).s89ab)
#define V16_Q3(v) ((v).scdef)
#define SPLAT_OF(T, v) ((T)(v))
#define LT(x, y) isless(x, y)
#define PICK(c, a, b) select(b, a, c)
#define readwrite
#define INLINE inline
/* an f16's bits as a float, exactly (what vload_half gives), in integer and select steps that a
 * CPU driver vectorizes: PoCL's vload_half was a call per element that ran the panels gemm 8x
 * slower. Subnormals through an int-to-float conversion, so no f32 subnormal is involved. */
INLINE float porta_half_(uint bits)
{
    uint em = bits & 0x7fffu;
    float f = em < 0x400u ? (float)em * 0x1p-24f : as_float((em << 13) + 0x38000000u);
    if (em >= 0x7c00u) f = as_float((em << 13) | 0x7f800000u);     /* inf, NaN */
    return as_float(as_uint(f) | ((bits & 0x8000u) << 16));
}
/* porta_half_ on 16 at once, in vector steps */
INLINE float16 porta_halves16_(uint16 bits)
{
    uint16 em = bits & 0x7fffu;
    float16 f = select(as_float16((em << 13) + 0x38000000u), convert_float16(em) * 0x1p-24f,
                       em < 0x400u);
    f = select(f, as_float16((em << 13) | 0x7f800000u), em >= 0x7c00u);
    return as_float16(as_uint16(f) | ((bits & 0x8000u) << 16));
}
#define HALVES16(buf, row, kind) \
    (kind == 2 ? porta_halves16_(convert_uint16(vload16((row), (__global const ushort *)(buf)))) \
               : as_float16(convert_uint16(vload16((row), (__global const ushort *)(buf))) << 16))
#define LD(name, i) \
    (KIND_##name == 1 ? porta_half_(((__global const ushort *)(name))[i]) \
     : KIND_##name == 2 ? as_float((uint)((__global const ushort *)(name))[i] << 16) \
     : as_float((name)[i]))
#define LDW(name, i) (KIND_##name == 0 ? (name)[i] : (uint)((__global const ushort *)(name))[i])
#define ST(name, i, v) { \
    if (KIND_##name == 0) (name)[i] = as_uint((float)(v)); \
    else vstore_half_rte((float)(v), (i), (__global half *)(name)); }
#define STW(name, i, bits) { \
    if (KIND_##name == 0) (name)[i] = (bits); \
    else ((__global ushort *)(name))[i] = (ushort)(bits); }
#define KERNEL_BEGIN(name) \
    __kernel void name(KERNEL_BUFFERS(BUF_PARAM_) KERNEL_PARAMS(PARAM_ARG_) const uint porta_pad_) \
    { KERNEL_SHARED(LOCAL_DECL_)
#define KERNEL_END }

#endif

#define NEG_INF AS_FLOAT(0xff800000u)
/* four 16-bit values of words u and v (lowest half first) as a vec4_t: f16 (kind 2 of a panel's
 * QUANT: 2) or bf16 (3) */
#define HALF_AT_(kind, u, s) \
    (kind == 2 ? porta_half_(((u) >> (s)) & 0xffffu) : AS_FLOAT((((u) >> (s)) & 0xffffu) << 16))
#define HALVES4(kind, u, v) \
    VEC4(HALF_AT_(kind, u, 0u), HALF_AT_(kind, u, 16u), HALF_AT_(kind, v, 0u), HALF_AT_(kind, v, 16u))
#define COPY_ELEM(dst, di, src, si) { \
    if (KIND_##dst == KIND_##src) STW(dst, di, LDW(src, si)) \
    else ST(dst, di, LD(src, si)) }
/* sign extension without shifting a signed value, which the two dialects define alike */
#define Q8_BYTE(u, s) F32(I32((((u) >> (s)) & 255u) ^ 128u) - 128)
#define Q8X4(u) VEC4(Q8_BYTE(u, 0u), Q8_BYTE(u, 8u), Q8_BYTE(u, 16u), Q8_BYTE(u, 24u))
