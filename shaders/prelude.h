/* The single-source kernel dialect. A kernel file in shaders/ defines four X-macro lists and then
 * includes this prelude, which places each list where the target language wants it:
 *
 *   KERNEL_BUFFERS(X)    X(slot, type, name, access)  access: readonly | writeonly | coherent
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
 * The build defines PORTA_GLSL for Vulkan (GLSL 450 compiled by glslc); OpenCL C 1.2 otherwise. */

#ifdef PORTA_GLSL

/* names the buffer declarations use */
#define vec16_t mat4
#define uvec4_t uvec4
#define readwrite

#define BUF_DECL_(slot, type, name, access) \
    layout(std430, set = 0, binding = slot) access buffer Buffer_##name { type name[]; };
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
#define KERNEL_BEGIN(name) void main() {
#define KERNEL_END }

#else /* OpenCL C 1.2 */

#define readonly const
#define writeonly
#define coherent volatile
#define BUF_PARAM_(slot, type, name, access) __global access type *restrict name,
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
#define KERNEL_BEGIN(name) \
    __kernel void name(KERNEL_BUFFERS(BUF_PARAM_) KERNEL_PARAMS(PARAM_ARG_) const uint porta_pad_) \
    { KERNEL_SHARED(LOCAL_DECL_)
#define KERNEL_END }

#endif

#define NEG_INF AS_FLOAT(0xff800000u)
/* sign extension without shifting a signed value, which the two dialects define alike */
#define Q8_BYTE(u, s) F32(I32((((u) >> (s)) & 255u) ^ 128u) - 128)
#define Q8X4(u) VEC4(Q8_BYTE(u, 0u), Q8_BYTE(u, 8u), Q8_BYTE(u, 16u), Q8_BYTE(u, 24u))
