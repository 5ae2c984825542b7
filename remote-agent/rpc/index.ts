export { noParams, RpcConnection, RpcError, RpcServer, type MethodSpec, type RpcId, type RpcLogger, type RpcServerOptions } from './server.js';
export {
  AgentAlreadyRunningError,
  AgentClientError,
  bridgeErrorLine,
  describeConnectError,
  groupId,
  listenAgentSocket,
  probeSocket,
  removeSocketFile,
  rpcCall,
  type ListenOptions,
  type SocketProbe,
} from './socket.js';
