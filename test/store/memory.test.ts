import { MemoryStore } from '../../src/store/memory/memory-store';
import { openStore } from '../../src/store';
import { runStoreContract } from './contract';

runStoreContract('memory', () => new MemoryStore());
runStoreContract('memory via openStore', () => openStore({ driver: 'memory' }));
